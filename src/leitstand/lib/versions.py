"""Software versions as updates name them: ``5.2.7``, ``v20``, ``1:2.3.4-1+deb12u1``.

Missing parts count as 0 (``6.0`` is 6.0.0, ``20`` is 20.0.0, FORMAT.md). A
version is an optional epoch (``1:``, Debian), numeric release parts and an
optional suffix: a pre-release (``rc1``, ``-beta.2``, ``~rc1``, ``.dev3``)
sorts before its release, anything else (a Debian revision ``-1+deb12u1``, a
letter release ``1.1.1w``, ``.post1``) after it. Suffixes compare among
themselves like ``dpkg --compare-versions`` does: digit runs numerically, other
characters by character, ``~`` before everything, even the end.

No Django imports: the host agent reports versions with this module.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_VERSION = re.compile(
    r"[vV]?(?:(?P<epoch>\d+):)?(?P<release>\d+(?:\.\d+)*)"
    # A suffix starts with a separator or a letter, never a bare dot ("5..2").
    r"(?P<suffix>(?:[-+~_]|\.?[A-Za-z])[A-Za-z0-9.+~_-]*)?"
)
# A pre-release marker at the start of the suffix; ``a``/``b``/``c`` only with
# a number (``2.0b3``), since a bare letter is a later release in OpenSSL's
# scheme (``1.1.1w``).
_PRE_RELEASE = re.compile(
    r"[-_.~]?(?:(?P<dev>dev)|alpha|beta|preview|pre|rc|[abc](?=\d))", re.IGNORECASE
)
_TOKEN = re.compile(r"(\D*)(\d*)")


def _char_order(char: str) -> int:
    # dpkg's order(): "~" before the end of the string, letters before other
    # characters.
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _compare_text(left: str, right: str) -> int:
    """dpkg's ``verrevcmp``: compare alternating non-digit and digit runs."""
    left_tokens = [match.groups() for match in _TOKEN.finditer(left) if match.group(0)]
    right_tokens = [match.groups() for match in _TOKEN.finditer(right) if match.group(0)]
    for index in range(max(len(left_tokens), len(right_tokens))):
        left_text, left_digits = left_tokens[index] if index < len(left_tokens) else ("", "")
        right_text, right_digits = right_tokens[index] if index < len(right_tokens) else ("", "")
        # The end of a run weighs 0: more than "~", less than any other character.
        left_weights = [_char_order(c) for c in left_text] + [0]
        right_weights = [_char_order(c) for c in right_text] + [0]
        for lw, rw in zip(left_weights, right_weights, strict=False):
            if lw != rw:
                return -1 if lw < rw else 1
        left_number, right_number = int(left_digits or 0), int(right_digits or 0)
        if left_number != right_number:
            return -1 if left_number < right_number else 1
    return 0


def _sort_suffix(suffix: str) -> str:
    # Pre-releases become "~..." so they sort before the release; ".dev"
    # becomes "~~..." so it sorts before alpha, beta and rc (PEP 440).
    match = _PRE_RELEASE.match(suffix)
    if match is None or suffix.startswith("~"):
        return suffix
    rest = suffix[match.start() + (1 if suffix[0] in "-_.~" else 0) :]
    return ("~~" if match.group("dev") else "~") + rest.lower()


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A parsed version; compare with ``<``, ``==``; see the module docstring."""

    epoch: int
    release: tuple[int, ...]
    suffix: str = ""

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse ``5.2.7``, ``6.0``, ``v20``, ``1:2.3.4-1+deb12u1``, ``6.0rc1``."""
        if not isinstance(text, str):
            raise ValueError(f"bad version {text!r}: expected text such as '5.2.7'")
        match = _VERSION.fullmatch(text.strip())
        if match is None:
            raise ValueError(
                f"bad version {text!r}: expected numbers separated by dots such as '5.2.7', "
                "optionally with an epoch ('1:') and a suffix ('-1+deb12u1', 'rc1')"
            )
        release = tuple(int(part) for part in match.group("release").split("."))
        return cls(int(match.group("epoch") or 0), release, match.group("suffix") or "")

    def part(self, index: int) -> int:
        """Release part ``index`` (0 major, 1 minor, 2 patch); missing parts are 0."""
        return self.release[index] if index < len(self.release) else 0

    def _padded(self, length: int) -> tuple[int, ...]:
        return self.release + (0,) * (length - len(self.release))

    def compare(self, other: Version) -> int:
        """-1, 0 or 1 as ``self`` is older than, the same as or newer than ``other``."""
        if self.epoch != other.epoch:
            return -1 if self.epoch < other.epoch else 1
        length = max(len(self.release), len(other.release))
        left, right = self._padded(length), other._padded(length)
        if left != right:
            return -1 if left < right else 1
        return _compare_text(_sort_suffix(self.suffix), _sort_suffix(other.suffix))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.compare(other) == 0

    def __lt__(self, other: Version) -> bool:
        return self.compare(other) < 0

    def __hash__(self) -> int:
        # Equal versions may be spelt differently ("6.0" and "6.0.0", "a" and
        # "a0" suffixes): hash what every spelling shares.
        release = list(self.release)
        while release and release[-1] == 0:
            release.pop()
        return hash((self.epoch, tuple(release)))

    def __str__(self) -> str:
        epoch = f"{self.epoch}:" if self.epoch else ""
        return epoch + ".".join(str(part) for part in self.release) + self.suffix
