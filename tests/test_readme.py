"""The README's Python examples run as written."""

import doctest

from kg.paths import DEFAULT_KB, ROOT


def test_readme_examples_run():
    assert DEFAULT_KB.exists(), "run `make install` first"
    failures, tried = doctest.testfile(str(ROOT / "README.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0
