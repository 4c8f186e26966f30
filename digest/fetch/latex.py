"""LaTeX in arXiv titles and abstracts, as text a reader can read.

arXiv metadata is written in LaTeX: `$\\textit{Aria}$`, `$O(\\sqrt{T}\\ln\\ln T)$`, `\\emph{not}`,
`Schr\\"odinger`. Left as it is, a newsletter shows the markup; stripped blindly, it loses the
letters. `to_text` reads the part of LaTeX that metadata uses: math delimiters go, font commands
keep their argument, Greek letters and common symbols become Unicode (α, ≤, →, ∞), simple
super- and subscripts become ² and ₁ where Unicode has them, accents join their letter
(ö, é), escaped characters (\\%, \\&, \\_) stand for themselves. An unknown command keeps its
name and its argument, so nothing a reader needs disappears.

Only arXiv text goes through here: elsewhere `$` and `\\` are just characters.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["to_text"]

# Commands whose argument is the text itself, in another font or style.
_KEEP_ARGUMENT = {
    "text", "textit", "textbf", "textrm", "textsf", "texttt", "textsc", "textup", "textsl",
    "textnormal", "emph", "mathrm", "mathit", "mathbf", "mathsf", "mathtt", "mathcal",
    "mathbb", "mathfrak", "mathscr", "mathnormal", "boldsymbol", "bm", "operatorname",
    "underline", "overline", "widehat", "widetilde", "hat", "tilde", "bar", "vec", "dot",
    "ddot", "check", "breve", "acute", "grave", "mbox", "hbox", "fbox", "uline", "mathds",
    "mathbbm", "url", "nolinkurl", "ensuremath", "mathop", "textsuperscript", "textsubscript",
    "texorpdfstring",
}  # fmt: skip
# Commands whose (first) argument is dropped: references, labels and spacing hints.
_DROP_ARGUMENT = {"label", "ref", "eqref", "cite", "citep", "citet", "footnote", "vspace", "hspace"}
_SYMBOLS = {
    # Greek
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "varpi": "ϖ", "rho": "ρ",
    "varrho": "ϱ", "sigma": "σ", "varsigma": "ς", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    # relations, operators, arrows
    "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠", "approx": "≈",
    "sim": "∼", "simeq": "≃", "cong": "≅", "equiv": "≡", "propto": "∝", "ll": "≪", "gg": "≫",
    "times": "×", "cdot": "·", "div": "÷", "pm": "±", "mp": "∓", "circ": "∘", "star": "⋆",
    "ast": "∗", "oplus": "⊕", "otimes": "⊗", "odot": "⊙", "in": "∈", "notin": "∉", "ni": "∋",
    "subset": "⊂", "subseteq": "⊆", "supset": "⊃", "supseteq": "⊇", "cup": "∪", "cap": "∩",
    "setminus": "∖", "emptyset": "∅", "varnothing": "∅", "forall": "∀", "exists": "∃",
    "neg": "¬", "lnot": "¬", "land": "∧", "wedge": "∧", "lor": "∨", "vee": "∨",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←", "leftrightarrow": "↔",
    "Rightarrow": "⇒", "Leftarrow": "⇐", "Leftrightarrow": "⇔", "implies": "⇒", "iff": "⇔",
    "mapsto": "↦", "uparrow": "↑", "downarrow": "↓", "infty": "∞", "partial": "∂",
    "nabla": "∇", "sum": "∑", "prod": "∏", "int": "∫", "oint": "∮", "sqrt": "√", "ell": "ℓ",
    "hbar": "ℏ", "Re": "ℜ", "Im": "ℑ", "aleph": "ℵ", "top": "⊤", "bot": "⊥", "perp": "⊥",
    "parallel": "∥", "mid": "|", "vert": "|", "Vert": "‖", "lVert": "‖", "rVert": "‖",
    "lvert": "|", "rvert": "|", "langle": "⟨", "rangle": "⟩", "lceil": "⌈", "rceil": "⌉",
    "lfloor": "⌊", "rfloor": "⌋", "prime": "′", "dagger": "†", "ddagger": "‡",
    "ldots": "…", "dots": "…", "cdots": "⋯", "vdots": "⋮", "ddots": "⋱", "dotsc": "…",
    "degree": "°", "checkmark": "✓", "S": "§", "P": "¶", "copyright": "©", "dag": "†",
    # text-mode characters and spacing
    "textendash": "–", "textemdash": "—", "textasciitilde": "~", "textasciicircum": "^",
    "textbackslash": "\\", "textbar": "|", "textless": "<", "textgreater": ">",
    "textquoteleft": "‘", "textquoteright": "’", "textquotedblleft": "“",
    "textquotedblright": "”", "textbullet": "•", "textperiodcentered": "·", "ss": "ß",
    "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ",
    "l": "ł", "L": "Ł", "i": "i", "j": "j", "quad": " ", "qquad": " ", "enspace": " ",
    "thinspace": " ", "space": " ", "newline": " ", "linebreak": " ", "par": " ",
    "LaTeX": "LaTeX", "TeX": "TeX", "textregistered": "®", "texttrademark": "™",
    # declarations that change the font of what follows: nothing to show
    "displaystyle": "", "textstyle": "", "scriptstyle": "", "rm": "", "it": "", "bf": "",
    "sf": "", "tt": "", "em": "", "sc": "", "cal": "", "left": "", "right": "", "big": "",
    "Big": "", "bigg": "", "Bigg": "", "bigl": "", "bigr": "", "Bigl": "", "Bigr": "",
    "limits": "", "nolimits": "", "noindent": "", "centering": "", "hfill": " ",
    "normalfont": "", "protect": "", "relax": "", "nonumber": "", "notag": "", "xspace": "",
    "footnotesize": "", "small": "", "large": "", "Large": "", "tiny": "", "huge": "",
}  # fmt: skip
# Function names written upright in math: \ln, \log, \max … are their name.
_FUNCTIONS = {
    "ln", "log", "lg", "exp", "sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh", "tanh",
    "arcsin", "arccos", "arctan", "max", "min", "sup", "inf", "lim", "liminf", "limsup",
    "arg", "argmax", "argmin", "det", "dim", "ker", "deg", "gcd", "Pr", "tr", "diag",
    "rank", "sgn", "softmax", "poly", "polylog", "mod", "bmod", "pmod",
}  # fmt: skip
# Accent commands and the combining mark each puts on its letter (NFC joins them).
_ACCENTS = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a", "d": "\u0323", "b": "\u0331",
}  # fmt: skip
_ESCAPED = {"%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}", "|": "‖"}
_SPACING = {",": " ", ";": " ", ":": " ", "!": "", ">": " ", "/": "", "\\": " ", "-": ""}
_SUPERSCRIPT = str.maketrans("0123456789+-=()niT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ")
_SUBSCRIPT = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")
_MAX_DEPTH = 32  # groups inside groups: metadata nests two or three deep, an attack thousands
_COMMAND = re.compile(r"\\([A-Za-z]+)\*?|\\(.)", re.S)
_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)


def to_text(text: str) -> str:
    """`text` (an arXiv title or abstract) with its LaTeX read as plain text; text without
    LaTeX comes back unchanged. Never raises: markup it does not know keeps its words."""
    if "$" not in text and "\\" not in text:
        return text
    parts = []
    last = 0
    for match in _MATH.finditer(text):
        parts.append(_Reader(text[last : match.start()], math=False).read())
        formula = next(group for group in match.groups() if group is not None)
        parts.append(_Reader(formula, math=True).read())
        last = match.end()
    parts.append(_Reader(text[last:], math=False).read())
    return unicodedata.normalize("NFC", re.sub(r"[ \t]{2,}", " ", "".join(parts)))


class _Reader:
    """A small recursive reader: commands, groups, accents, scripts; one pass, bounded."""

    def __init__(self, source: str, math: bool) -> None:
        self.s = source
        self.i = 0
        self.math = math
        self.depth = 0

    def read(self, stop: str = "") -> str:
        out: list[str] = []
        self.depth += 1
        while self.i < len(self.s):
            char = self.s[self.i]
            if stop and char == stop:
                self.i += 1
                break
            if char == "\\" and self.depth < _MAX_DEPTH:
                piece = self._command()
                if piece.rstrip() in _FUNCTIONS and out and out[-1][-1:].isalnum():
                    out.append(" ")  # "√T ln T", not "√Tln T"
                out.append(piece)
            elif char == "{" and self.depth < _MAX_DEPTH:
                self.i += 1
                out.append(self.read("}"))
            elif char in "{}\\":
                self.i += 1  # an unbalanced brace, or nesting past any real title's
            elif char in "^_" and self.math:
                self.i += 1
                out.append(self._script(char))
            elif char == "~" and self.math:
                self.i += 1
                out.append(" ")  # a tie: an unbreakable space
            else:
                out.append(char)
                self.i += 1
        self.depth -= 1
        return "".join(out)

    def _argument(self) -> str:
        """The next argument: a {group}, a command, or one character."""
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1
        if self.i >= len(self.s):
            return ""
        char = self.s[self.i]
        if char == "{":
            self.i += 1
            return self.read("}")
        if char == "\\":
            self.depth += 1  # a command as argument of a command (\\hat\\alpha): one level
            found = self._command() if self.depth < _MAX_DEPTH else ""
            self.depth -= 1
            return found
        self.i += 1
        return char

    def _skip_optional(self) -> None:
        """An optional [argument] (\\sqrt[3]{x}, \\\\[2pt]) says nothing a reader needs."""
        if self.i < len(self.s) and self.s[self.i] == "[":
            end = self.s.find("]", self.i)
            if end != -1:
                self.i = end + 1

    def _command(self) -> str:
        match = _COMMAND.match(self.s, self.i)
        if not match:
            self.i += 1
            return ""
        self.i = match.end()
        name, symbol = match.group(1), match.group(2)
        if symbol is not None:
            if symbol in _ACCENTS:
                return self._accent(_ACCENTS[symbol])
            return _ESCAPED.get(symbol, _SPACING.get(symbol, symbol))
        if name in _ACCENTS and self.i < len(self.s) and self.s[self.i] in "{ ":
            return self._accent(_ACCENTS[name])
        if name in ("frac", "dfrac", "tfrac", "binom"):
            top, bottom = _wrap(self._argument()), _wrap(self._argument())
            return f"{top}/{bottom}" if name != "binom" else f"C({top}, {bottom})"
        if name == "sqrt":
            self._skip_optional()
            return "√" + _wrap(self._argument())
        if name == "href":
            self._argument()  # the address; the text follows
            return self._argument()
        if name in _DROP_ARGUMENT:
            self._skip_optional()
            self._argument()
            return ""
        if name in _KEEP_ARGUMENT:
            return self._argument()
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        if name in _FUNCTIONS:
            return name + " "
        if name in ("begin", "end"):
            self._argument()  # an environment's name
            return " "
        if self.s.startswith("{", self.i):
            return self._argument()  # an unknown style command: what it styles is the text
        return name  # unknown and alone: its name is the best guess at what it says

    def _accent(self, mark: str) -> str:
        letter = self._argument()
        return letter[:1] + mark + letter[1:] if letter else ""

    def _script(self, kind: str) -> str:
        body = self._argument()
        table = _SUPERSCRIPT if kind == "^" else _SUBSCRIPT
        mapped = body.translate(table)
        if body and all(c != m for c, m in zip(body, mapped, strict=True)):
            return mapped  # every character has its raised or lowered form
        if body in ("′", "\u2032"):
            return "′"
        return kind + (body if len(body) <= 1 else f"({body})")


def _wrap(part: str) -> str:
    """A fraction's part in parentheses when it is more than one symbol: (a+b)/2."""
    part = part.strip()
    return part if len(part) <= 1 or part.isalnum() else f"({part})"
