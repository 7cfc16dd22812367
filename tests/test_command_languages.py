"""The commands clerks run print in English, Russian or Tajik (`--language`, kernel/commands.py).

The default stays English; COMMAND_LANGUAGE changes it; a language the registry does not
speak is refused before anything runs.
"""

import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from deposits.demo import load_minerals, load_regions
from deposits.models import Deposit
from kernel.commands import figure
from tests.factories import DepositFactory

ROOT = Path(__file__).resolve().parent.parent
# argparse's words; Python versions differ on quoting the choices
INVALID_CHOICE = r"invalid choice: 'xx' \(choose from '?en'?, '?ru'?, '?tg'?\)"


@pytest.fixture
def sites_file(db, tmp_path):
    """One record the registry takes and one it refuses (a point in Germany)."""
    load_regions()
    load_minerals()

    def site(name, location):
        return {
            "source_id": "https://mrdata.usgs.gov/major-deposits",
            "record_id": name,
            "name": name,
            "location_info": {"location": location},
            "mineral_inventory": [{"commodity": {"observed_name": "Au"}}],
        }

    path = tmp_path / "sites.json"
    path.write_text(
        json.dumps([site("Good", "POINT (68.5 39.2)"), site("Far away", "POINT (10.0 50.0)")])
    )
    return path


def import_minmod(path, *options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("import_minmod", str(path), *options, stdout=out, stderr=err)
    assert exit_code.value.code == 1  # a record was refused
    return out.getvalue(), err.getvalue()


def test_import_minmod_speaks_english_by_default(sites_file):
    out, err = import_minmod(sites_file)
    assert "created 1, updated 0, unchanged 0, refused 1" in out
    assert "  created Good" in out
    assert "refused record 2 (Far away): latitude: Latitude 50.000000 is outside Tajikistan" in err


def test_import_minmod_in_russian(sites_file):
    out, err = import_minmod(sites_file, "--language", "ru")
    assert "создано 1, изменено 0, без изменений 0, отклонено 1" in out
    assert "  создано: Good" in out
    # the refusal, and the model's own validation message inside it, in Russian
    assert "отклонена запись 2 (Far away): latitude: Широта 50.000000 вне Таджикистана" in err
    assert "refused" not in out + err
    assert Deposit.objects.filter(name="Good").exists()


def test_import_minmod_in_tajik(sites_file):
    out, err = import_minmod(sites_file, "--language", "tg")
    assert "сохта шуд: 1, тағйир ёфт: 0, бетағйир: 0, рад шуд: 1" in out
    assert "  сохта шуд: Good" in out
    assert "сабти 2 (Far away) рад шуд: latitude: Арзи ҷуғрофии 50.000000 берун аз Тоҷикистон" in (
        err
    )
    assert "refused" not in out + err


def test_the_default_language_comes_from_the_setting(sites_file, settings):
    settings.COMMAND_LANGUAGE = "tg"  # COMMAND_LANGUAGE in the environment
    out, _err = import_minmod(sites_file)
    assert "рад шуд: 1" in out
    out, _err = import_minmod(sites_file, "--language", "en")  # the option wins
    assert "refused 1" in out


def test_the_command_leaves_the_active_language_as_it_found_it(sites_file):
    with translation.override("en"):
        import_minmod(sites_file, "--language", "ru")
        assert translation.get_language() == "en"


def test_notes_are_translated_too(db, tmp_path):
    load_regions()
    load_minerals()
    path = tmp_path / "sites.json"
    record = {
        "source_id": "https://mrdata.usgs.gov/major-deposits",
        "record_id": "Odd",
        "name": "Odd",
        "location_info": {"location": "POINT (68.5 39.2)"},
        "mineral_inventory": [{"commodity": {"observed_name": "Unobtainium"}}],
    }
    path.write_text(json.dumps([record]))
    out = StringIO()
    call_command("import_minmod", str(path), "--language", "ru", stdout=out, stderr=StringIO())
    assert "примечание: Odd: сырьё, которого нет в реестре: Unobtainium" in out.getvalue()


def test_an_unknown_language_is_refused_with_the_choices(sites_file):
    with pytest.raises(CommandError, match=INVALID_CHOICE):
        call_command("import_minmod", str(sites_file), "--language", "xx")
    with pytest.raises(CommandError, match="unknown language 'xx'; choose one of en, ru, tg"):
        call_command("import_minmod", str(sites_file), language="xx")
    assert not Deposit.objects.exists()


def run_manage(*args, **env):
    environment = {**os.environ, "SECRET_KEY": os.environ.get("SECRET_KEY") or "x"}
    environment.pop("COMMAND_LANGUAGE", None)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_an_unknown_language_on_the_command_line_exits_non_zero():
    result = run_manage("import_minmod", "--language", "xx", "sites.json")
    assert result.returncode != 0
    assert re.search(f"argument --language: {INVALID_CHOICE}", result.stderr), result.stderr


def test_the_environment_chooses_the_language_of_a_shell():
    result = run_manage("import_minmod", "no-such-file.json", COMMAND_LANGUAGE="ru")
    assert result.returncode == 1
    assert "не удаётся прочитать no-such-file.json" in result.stderr
    result = run_manage("import_minmod", "no-such-file.json", COMMAND_LANGUAGE="xx")
    assert result.returncode != 0
    assert "COMMAND_LANGUAGE must be one of en, ru, tg, not 'xx'" in result.stderr


def test_data_quality_in_russian_and_tajik(db):
    deposit = DepositFactory(name="Konchoch", region=None)
    for language, line, total in [
        ("ru", "месторождение {id} Konchoch: нет координат и нет региона", "Замечаний: 1."),
        ("tg", "кони {id} Konchoch: координатаҳо ва вилоят нестанд", "Эродҳо: 1."),
    ]:
        line = "[location] " + line.format(id=deposit.public_id)
        out, err = StringIO(), StringIO()
        with pytest.raises(SystemExit):
            call_command("data_quality", "--language", language, stdout=out, stderr=err)
        assert out.getvalue().startswith(line)
        assert total in err.getvalue()


def test_issue_api_token_refuses_in_the_clerks_language(db):
    with pytest.raises(CommandError, match="Нет организации с аббревиатурой 'NOPE'"):
        call_command("issue_api_token", "NOPE", "--language", "ru")
    with pytest.raises(CommandError, match="Созмоне бо ихтисораи 'NOPE' нест"):
        call_command("issue_api_token", "NOPE", "--language", "tg")


def test_load_demo_reports_in_tajik(db):
    out = StringIO()
    call_command("load_demo", "--language", "tg", stdout=out)
    text = out.getvalue()
    assert "Объектҳои MinMod: сохта шуд: " in text
    assert "Khodzhamumyn: чун нашршуда нигоҳ дошта шуд:" in text
    assert "сатри 11-и ҷадвали санҷидашуда (Dalnee) чун нашршуда нигоҳ дошта шуд:" in text
    assert f"Конҳо дар феҳрист: {Deposit.objects.count()}" in text
    assert "Ҳамкорӣ: созмонҳо — " in text
    assert "Феҳристи намоишӣ бор карда шуд." in text


def test_figures_follow_the_language():
    with translation.override("en"):
        assert figure(12345) == "12,345"
    with translation.override("ru"):
        assert figure(12345) == "12\xa0345"
