"""Device-name patterns from the catalog, matched in linear time.

A ``match`` cell is a list of alternatives separated by ``|``; each is literal text in which
``.*`` stands for any text and ``\\b`` for a word boundary (``A100.*80GB``, ``\\bL4\\b``). That is
all the shipped catalog needs, and unlike a regular expression from a user's ``--catalog`` file
it can neither backtrack for ever nor fail to compile. Matching is case-sensitive, as before.
"""

from __future__ import annotations

BOUNDARY = "\\b"


def _word_char(text: str, index: int) -> bool:
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


def _find_piece(name: str, piece: str, start: int) -> int:
    """End index of the first occurrence of ``piece`` (with its \\b marks) at or after
    ``start``, or -1."""
    left = piece.startswith(BOUNDARY)
    right = piece.endswith(BOUNDARY) and len(piece) > len(BOUNDARY)
    literal = piece[len(BOUNDARY) if left else 0 : len(piece) - (len(BOUNDARY) if right else 0)]
    if BOUNDARY in literal or not literal:
        return -1 if literal else start  # \b inside a literal is not supported: no match
    position = name.find(literal, start)
    while position >= 0:
        end = position + len(literal)
        ok_left = not left or _word_char(name, position - 1) != _word_char(name, position)
        ok_right = not right or _word_char(name, end - 1) != _word_char(name, end)
        if ok_left and ok_right:
            return end
        position = name.find(literal, position + 1)
    return -1


def _matches_alternative(name: str, alternative: str) -> bool:
    position = 0
    for piece in alternative.split(".*"):
        position = _find_piece(name, piece, position)
        if position < 0:
            return False
    return True


def name_matches(pattern: str, name: str) -> bool:
    """True if any ``|`` alternative of ``pattern`` occurs in ``name``; an empty pattern never
    matches."""
    return any(alt and _matches_alternative(name, alt) for alt in pattern.split("|"))
