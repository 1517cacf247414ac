"""Every public estimator's parameters follow docs/conventions.md (issue #17): one vocabulary.

The page holds two kinds of table (see its "How the tables are read" section): the main table
``| name | meaning | type | default |`` (one row per parameter name, possibly split into sub-tables)
and the defaults by estimator ``| name | estimator | default | why |``. Each estimator's
``__init__`` is checked against them: every parameter is keyword-only, named in the main table, and
has the default of its row (or of its (name, estimator) row). Rows that no estimator uses fail too.
"""

import ast
import functools
import inspect
import re
from pathlib import Path

import pytest

import nlpipe

CONVENTIONS = Path(__file__).resolve().parent.parent / "docs" / "conventions.md"
MAIN_HEADER = ("name", "meaning", "type", "default")
BY_ESTIMATOR_HEADER = ("name", "estimator", "default", "why")
BY_ESTIMATOR = "by estimator"

pytestmark = pytest.mark.skipif(not CONVENTIONS.exists(), reason="no docs/conventions.md (installed package)")


class _Required:
    """The default of a parameter without one (the cell "required", the signature's ``Parameter.empty``)."""

    def __repr__(self):
        return "required (no default)"


REQUIRED = _Required()


# ------------------------------------------------------------------------------------ the estimators
def _public_estimators():
    """{class name: class}: ``nlpipe.__all__``'s classes with ``get_params``, and the compression steps."""
    from nlpipe import compression

    found = {}
    for name in nlpipe.__all__:
        obj = getattr(nlpipe, name)
        if inspect.isclass(obj) and hasattr(obj, "get_params"):
            found[obj.__name__] = obj
    for name in compression.__all__:
        obj = getattr(compression, name)
        if inspect.isclass(obj) and hasattr(obj, "get_params"):
            found[name] = obj
    return dict(sorted(found.items()))


ESTIMATORS = _public_estimators()


def _parameters(cls):
    """The ``__init__`` parameters after ``self``."""
    return list(inspect.signature(cls.__init__).parameters.values())[1:]


def _default(param):
    return REQUIRED if param.default is inspect.Parameter.empty else param.default


@functools.cache
def _usage():
    """{parameter name: {estimator name: default}} over every public estimator."""
    usage = {}
    for est, cls in ESTIMATORS.items():
        for param in _parameters(cls):
            usage.setdefault(param.name, {})[est] = _default(param)
    return usage


# -------------------------------------------------------------------------------------- the tables
def _cells(line):
    return tuple(cell.strip() for cell in line.strip().strip("|").split("|"))


def _tables(text):
    """Yield (header, [(line number, cells), ...]) for every markdown table of ``text``."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("|") and i + 1 < len(lines) and re.fullmatch(r"\s*\|[\s:|-]+\|\s*", lines[i + 1]):
            header = _cells(lines[i])
            rows = []
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append((i + 1, _cells(lines[i])))
                i += 1
            yield header, rows
        else:
            i += 1


def _code(cell, where):
    match = re.fullmatch(r"`([^`]+)`", cell)
    assert match, f"{where}: expected a name in backticks, found {cell!r}"
    return match.group(1)


def _parse_default(cell, where, *, allow_by_estimator):
    if cell == "required":
        return REQUIRED
    if cell == BY_ESTIMATOR:
        assert allow_by_estimator, f"{where}: 'by estimator' belongs in the main table only"
        return BY_ESTIMATOR
    match = re.fullmatch(r"`(.+)`", cell)
    assert match, f"{where}: the default must be a Python literal in backticks, 'by estimator' or 'required', found {cell!r}"
    try:
        return ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError) as exc:
        raise AssertionError(f"{where}: the default {match.group(1)!r} is not a Python literal ({exc})") from None


@functools.cache
def _conventions():
    """(main, by_estimator): {name: default} and {(name, estimator): default}, read from the page."""
    main, by_estimator = {}, {}
    for header, rows in _tables(CONVENTIONS.read_text(encoding="utf-8")):
        if header not in (MAIN_HEADER, BY_ESTIMATOR_HEADER):
            continue
        for lineno, cells in rows:
            where = f"docs/conventions.md:{lineno}"
            assert len(cells) == len(header), f"{where}: {len(cells)} cells for the {len(header)} columns {header}"
            name = _code(cells[0], where)
            if header == MAIN_HEADER:
                assert cells[1] and cells[2], f"{where}: `{name}` has no meaning or no type"
                assert name not in main, f"{where}: `{name}` has a second row in the main table"
                main[name] = _parse_default(cells[3], where, allow_by_estimator=True)
            else:
                est = _code(cells[1], where)
                assert cells[3], f"{where}: ({name}, {est}) gives no reason"
                assert (name, est) not in by_estimator, f"{where}: ({name}, {est}) has a second row"
                by_estimator[name, est] = _parse_default(cells[2], where, allow_by_estimator=False)
    assert main, f"no table headed {' | '.join(MAIN_HEADER)} in {CONVENTIONS}"
    assert by_estimator, f"no table headed {' | '.join(BY_ESTIMATOR_HEADER)} in {CONVENTIONS}"
    return main, by_estimator


def _same(found, expected):
    """``==`` on the literal, but a bool never equals an int (``verbose=True`` is not ``verbose=1``)."""
    if found is REQUIRED or expected is REQUIRED:
        return found is expected
    if isinstance(found, bool) != isinstance(expected, bool):
        return False
    try:
        return bool(found == expected)
    except (TypeError, ValueError):  # an == that is not a truth value (an array): not a table literal
        return False


# --------------------------------------------------------------------------------------- the tests
def test_tables_are_well_formed():
    main, by_estimator = _conventions()
    unknown = sorted({name for name, _ in by_estimator} - set(main))
    assert not unknown, f"names in the defaults-by-estimator table but not in the main table: {unknown}"


@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_parameters_are_keyword_only(estimator):
    positional = [f"{p.name} ({p.kind.description})" for p in _parameters(ESTIMATORS[estimator])
                  if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    if positional:
        pytest.fail(f"{estimator}.__init__: parameters not keyword-only (put them after `*`): {positional}",
                    pytrace=False)


@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_parameters_follow_the_conventions(estimator):
    main, by_estimator = _conventions()
    problems = []
    for param in _parameters(ESTIMATORS[estimator]):
        found = _default(param)
        if param.name not in main:
            problems.append(f"{estimator}: parameter `{param.name}` (default {found!r}) is not in the main table: "
                            "use the name the table gives the concept, or add a row")
            continue
        if (param.name, estimator) in by_estimator:
            expected, source = by_estimator[param.name, estimator], f"the ({param.name}, {estimator}) row"
        elif main[param.name] == BY_ESTIMATOR:
            problems.append(f"{estimator}: parameter `{param.name}` (default {found!r}) is 'by estimator' in the main "
                            f"table, but the defaults-by-estimator table has no ({param.name}, {estimator}) row")
            continue
        else:
            expected, source = main[param.name], "the main table"
        if not _same(found, expected):
            problems.append(f"{estimator}: parameter `{param.name}` defaults to {found!r}, expected {expected!r} "
                            f"({source})")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_every_row_is_used():
    """No stale rows: a name some estimator has, a (name, estimator) row for an estimator that has it
    and whose default is not the main table's anyway."""
    main, by_estimator = _conventions()
    usage = _usage()
    stale = [f"`{name}` (main table): no public estimator has it" for name in main if name not in usage]
    for (name, est), default in by_estimator.items():
        if est not in ESTIMATORS:
            stale.append(f"({name}, {est}): {est} is not a public estimator")
        elif est not in usage.get(name, {}):
            stale.append(f"({name}, {est}): {est} has no parameter `{name}`")
        elif name in main and main[name] != BY_ESTIMATOR and _same(default, main[name]):
            stale.append(f"({name}, {est}): the row repeats the main default {default!r}")
    if stale:
        pytest.fail("stale rows in docs/conventions.md:\n" + "\n".join(stale), pytrace=False)
