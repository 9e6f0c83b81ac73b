"""The README is the operators' manual: it must name every variable the settings read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _variables_read_by_settings() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    names = set(re.findall(r'env_[a-z]+\(\s*"([A-Z][A-Z0-9_]*)"', source))
    names |= set(re.findall(r'env_prefixed\("([A-Z0-9_]+)"\)', source))
    return names


def test_it_documents_every_environment_variable():
    readme = (ROOT / "README.md").read_text()
    variables = _variables_read_by_settings()

    assert len(variables) > 20  # the parser found the settings, not nothing
    undocumented = sorted(name for name in variables if f"`{name}" not in readme)
    assert undocumented == []


def test_it_puts_the_two_commands_first():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```")[1]

    assert [line.split()[:2] for line in first_block.strip().splitlines()[1:]] == [
        ["make", "run"],
        ["make", "test"],
    ]


def test_it_links_every_design_note():
    readme = (ROOT / "README.md").read_text()
    notes = sorted(path.name for path in (ROOT / "docs").glob("*.md"))

    assert "development.md" in notes  # the glob found the docs, not nothing
    unlinked = [name for name in notes if f"](docs/{name})" not in readme]
    assert unlinked == []


def test_it_links_only_files_that_exist():
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(((?!https?:|#)[^)#\s]+)", readme)

    assert "docs/screenshot.png" in targets
    missing = [target for target in targets if not (ROOT / target).exists()]
    assert missing == []


def test_it_stays_a_front_door():
    # The README is read first; design notes and benchmark tables belong in docs/.
    lines = (ROOT / "README.md").read_text().splitlines()

    assert len(lines) <= 250
