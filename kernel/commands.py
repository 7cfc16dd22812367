"""Management commands whose output is for clerks: printed in English, Russian or Tajik.

A command a clerk runs (`import_minmod`, `data_quality`, `load_demo`, `issue_api_token`)
subclasses `ClerkCommand` instead of Django's `BaseCommand`. It gets a `--language
{en,ru,tg}` option and runs with that language active, so every string it prints that is
marked for translation (docs/translation.md) comes out in it, and so do the validation
messages it passes on. Without the option the language is `settings.COMMAND_LANGUAGE`,
which is the `COMMAND_LANGUAGE` environment variable, else `LANGUAGE_CODE` ("en"): a
clerk's shell may `export COMMAND_LANGUAGE=tg` once. Django runs a command with no
language activated, which means LANGUAGE_CODE; this only makes the choice explicit.

Developer and operations commands (benchmarks, synthetic data, dumps, the translation
tools) stay plain `BaseCommand`s and print English.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import formats, translation


def command_languages() -> list[str]:
    """The codes `--language` accepts: the registry's languages (settings.LANGUAGES)."""
    return [code for code, _name in settings.LANGUAGES]


def figure(number) -> str:
    """A count or quantity as the active language writes it (1,234 / 1 234)."""
    return formats.number_format(number, force_grouping=True)


class ClerkCommand(BaseCommand):
    """A command whose output is for clerks, in the language `--language` names."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--language",
            choices=command_languages(),
            default=None,
            help=(
                "the language of the output (default: the COMMAND_LANGUAGE environment "
                f"variable, else {settings.LANGUAGE_CODE})"
            ),
        )
        return parser

    def execute(self, *args, **options):
        language = options.get("language") or settings.COMMAND_LANGUAGE
        if language not in command_languages():  # call_command() skips argparse's choices
            raise CommandError(
                f"unknown language {language!r}; choose one of {', '.join(command_languages())}"
            )
        with translation.override(language):
            return super().execute(*args, **options)
