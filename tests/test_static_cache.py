"""The live registries' collected static files are kept between runs (tests/live_registry.py),
in a folder named by what `collectstatic` reads: a change to any static file's content or
name must name another folder, or a run would serve the files of an older state."""

from tests.live_registry import static_key


def test_the_static_cache_is_named_by_the_files_content(settings, tmp_path):
    unchanged = static_key()
    assert static_key() == unchanged

    script = tmp_path / "probe.js"
    script.write_text("let a = 1;\n")
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, ("probe", tmp_path)]
    added = static_key()
    assert added != unchanged

    script.write_text("let a = 2;\n")
    edited = static_key()
    assert edited not in (unchanged, added)

    script.rename(tmp_path / "renamed.js")
    assert static_key() not in (unchanged, added, edited)

    (tmp_path / "renamed.js").rename(script)
    script.write_text("let a = 1;\n")
    assert static_key() == added  # the same files: the same folder again
