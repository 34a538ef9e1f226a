"""The alias history the tool keeps in an alias's description: encoding and decoding."""

from __future__ import annotations

import pytest

from lambdadeploy.engine.history import HISTORY_LIMIT, AliasHistory, Move, pushed


def test_encoding_is_the_mark_then_compact_json() -> None:
    # Lambda caps descriptions at 256 characters: no spaces are spent on formatting.
    assert AliasHistory(("3", "2"), "v4 passed in 5 ms").encode() == (
        'lambdadeploy {"previous":["3","2"],"smoke":"v4 passed in 5 ms"}')
    assert AliasHistory().encode() == 'lambdadeploy {"previous":[],"smoke":null}'


def test_encoding_keeps_the_newest_versions_only() -> None:
    history = AliasHistory(tuple(str(v) for v in range(100, 80, -1)))
    assert AliasHistory.decode(history.encode()).previous == tuple(str(v) for v in range(100, 90, -1))
    assert HISTORY_LIMIT == 10
    longest = AliasHistory(tuple(str(v) for v in range(99999, 99989, -1)),
                           "canary v99999 100%, passed in 9999 ms")
    assert len(longest.encode()) <= 256


@pytest.mark.parametrize(
    ("history"),
    [AliasHistory(), AliasHistory(("1",)), AliasHistory(("12", "7", "3"), "v13 passed in 1.5 ms")],
)
def test_decode_reads_back_what_encode_wrote(history: AliasHistory) -> None:
    assert AliasHistory.decode(history.encode()) == history


@pytest.mark.parametrize(
    "description",
    [
        None,  # an alias with no description at all
        "",
        "promoted by hand",
        'lambdadeploy{"previous":["1"],"smoke":null}',  # the mark must be followed by a space
        'lambdadeployX{"previous":["1"],"smoke":null}',
        'lambdadeploy {"previous":["1"]',  # cut short
        'lambdadeploy ["1"]',  # JSON, but not a mapping
        "lambdadeploy ",
    ],
)
def test_anything_else_reads_as_no_history(description: str | None) -> None:
    assert AliasHistory.decode(description) == AliasHistory()


def test_decode_tolerates_missing_fields_and_numbers() -> None:
    assert AliasHistory.decode('lambdadeploy {"previous":[3,2]}') == AliasHistory(("3", "2"), None)
    assert AliasHistory.decode('lambdadeploy {"previous":null,"smoke":"ok"}') == AliasHistory((), "ok")
    # Written by hand with spaces: still ours.
    assert AliasHistory.decode('lambdadeploy { "previous": ["5"], "smoke": "x" }') == AliasHistory(("5",), "x")


def test_a_long_smoke_note_is_cut_to_80_characters_and_a_shorter_one_kept() -> None:
    assert AliasHistory((), "x" * 80).encode() == 'lambdadeploy {"previous":[],"smoke":"' + "x" * 80 + '"}'
    assert AliasHistory((), "y" * 81).encode() == 'lambdadeploy {"previous":[],"smoke":"' + "y" * 77 + '..."}'


def test_versions_that_do_not_fit_256_characters_are_dropped_oldest_first() -> None:
    # Version strings are short in practice; a hand-edited history can hold anything.
    versions = tuple(f"{n:030d}" for n in range(10, 0, -1))  # newest first
    text = AliasHistory(versions, "z" * 80).encode()
    assert AliasHistory.decode(text) == AliasHistory(versions[:4], "z" * 80)
    assert len(text) == 250  # a fifth 32-character entry would take it to 283


def test_a_move_puts_the_version_it_left_first_without_repeating_it() -> None:
    assert pushed("3", ("2", "3", "1")) == ("3", "2", "1")
    assert pushed("1", ()) == ("1",)


def test_a_history_of_exactly_256_characters_is_kept_whole() -> None:
    versions = ("a" * 41, "b" * 40, "c" * 40, "d" * 40, "e" * 40)
    assert len(AliasHistory(versions).encode()) == 256
    assert AliasHistory.decode(AliasHistory((*versions, "f")).encode()) == AliasHistory(versions)


# -- what each move records -------------------------------------------------------------------

MOVE = Move("8", "20250610T1234Z", "push", "ok", "alice")


def test_a_move_is_one_compact_string_and_reads_back() -> None:
    assert MOVE.encode() == "8 20250610T1234Z push ok alice"
    assert Move.decode(MOVE.encode()) == MOVE
    assert Move.decode("8 20250610T1234Z rollback -") == Move("8", "20250610T1234Z", "rollback", "-")
    assert Move.decode("7") == Move("7") and not Move("7").detailed
    assert Move("8", "20250610T1234Z", "push", "ok", "mary ann").encode().endswith(" maryann")


def test_the_move_to_the_current_version_comes_first_then_the_earlier_ones() -> None:
    history = AliasHistory((Move("7", "20250609T0900Z", "push", "ok", "bob"), "6"), "v8 passed in 3 ms", MOVE)
    assert AliasHistory.decode(history.encode()) == history
    assert history.previous == ("7", "6")
    assert history.moves("8") == (MOVE, Move("7", "20250609T0900Z", "push", "ok", "bob"), Move("6"))
    # Moved by something else since: that move has no record, the earlier ones still stand.
    assert history.moves("9")[:2] == (Move("9"), Move("7", "20250609T0900Z", "push", "ok", "bob"))
    assert history.record_of("8") == MOVE and history.record_of("6") == Move("6")
    assert history.record_of("3") == Move("3")


def test_histories_written_before_moves_had_details_still_read() -> None:
    old = AliasHistory.decode('lambdadeploy {"previous":["3","2"],"smoke":"v4 passed in 5 ms"}')
    assert (old.previous, old.now, old.smoke) == (("3", "2"), None, "v4 passed in 5 ms")
    assert old.moves("4") == (Move("4"), Move("3"), Move("2"))


def test_cutting_to_256_drops_the_oldest_details_before_any_version() -> None:
    moves = tuple(Move(str(100000 - i), "20250610T1234Z", "promote", "ok", "someone-with-a-long-name")
                  for i in range(1, 11))
    history = AliasHistory(moves, "canary v100000 100%, passed in 9999 ms", MOVE)
    text = history.encode()
    kept = AliasHistory.decode(text)
    assert len(text) <= 256
    assert kept.previous == history.previous  # all ten versions: rollback still goes ten moves back
    assert kept.now == MOVE and kept.earlier[0] == moves[0]  # the newest details survive
    assert not kept.earlier[-1].detailed
    details = [m.detailed for m in kept.earlier]
    assert details == sorted(details, reverse=True)  # details are dropped oldest first
