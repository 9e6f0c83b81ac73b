from lib.emails import wrap_text

LINK = "https://paperboy.example.org/preferences/" + "a" * 80 + "/"


def test_it_wraps_long_lines_at_78_columns_keeping_their_indent():
    text = "   " + "word " * 40 + "\nshort line\n"

    lines = wrap_text(text).splitlines()

    assert max(len(line) for line in lines) <= 78
    assert all(line.startswith("   word") for line in lines[:-1])
    assert lines[-1] == "short line"
    assert " ".join(wrap_text(text).split()) == " ".join(text.split())  # nothing lost


def test_it_continues_a_numbered_item_under_its_text():
    lines = wrap_text("12. " + "A long title about things " * 5).splitlines()

    assert lines[0].startswith("12. A long")
    assert all(line.startswith("    ") and line[4] != " " for line in lines[1:])


def test_it_never_breaks_a_link():
    lines = wrap_text(f"Change what you receive: {LINK}\n").splitlines()

    assert lines == ["Change what you receive:", LINK]
