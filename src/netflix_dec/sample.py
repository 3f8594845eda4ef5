"""A synthetic catalogue with the Kaggle schema and a known answer.

A fresh clone must run with no download, and the clustering needs a test whose
right answer is known. This generator writes titles whose descriptions are
built from planted themes: each theme has its own vocabulary, every description
also carries shared filler words, invented proper names and some words borrowed
from other themes, and ``listed_in`` starts with the planted genre. It also
plants the dirt the notebook's cleaning removes: missing directors, missing
values in other columns and duplicate rows.

Run ``python -m netflix_dec.sample --help`` to write a catalogue of any size;
the committed sample is ``data/01_raw/sample/netflix_titles_sample.csv``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from netflix_dec.catalogue import COLUMNS, SAMPLE_PATH
from netflix_dec.evaluation import INTERNATIONAL_TAGS


@dataclass(frozen=True)
class Theme:
    """One planted genre: its ``listed_in`` names and its own vocabulary."""

    movie_genre: str
    show_genre: str
    people: tuple[str, ...]
    nouns: tuple[str, ...]
    verbs: tuple[str, ...]
    adjectives: tuple[str, ...]
    ratings: tuple[str, ...]


THEMES: tuple[Theme, ...] = (
    Theme(
        "Horror Movies",
        "TV Horror",
        ("exorcist", "caretaker", "medium", "gravedigger", "nun"),
        ("demon", "curse", "haunting", "asylum", "ritual", "spirit", "coffin",
         "graveyard", "possession", "cellar"),
        ("haunts", "terrorizes", "awakens", "summons", "stalks", "possesses"),
        ("cursed", "sinister", "undead", "haunted", "bloody", "eerie"),
        ("TV-MA", "R"),
    ),
    Theme(
        "Romantic Movies",
        "Romantic TV Shows",
        ("bride", "fiance", "widower", "matchmaker", "sweetheart"),
        ("wedding", "romance", "kiss", "proposal", "honeymoon", "valentine",
         "crush", "engagement", "flirtation", "soulmate"),
        ("woos", "marries", "courts", "serenades", "romances", "elopes"),
        ("lovestruck", "charming", "romantic", "smitten", "passionate", "tender"),
        ("TV-14", "PG-13"),
    ),
    Theme(
        "Documentaries",
        "Docuseries",
        ("filmmaker", "journalist", "scientist", "activist", "historian"),
        ("footage", "interviews", "archive", "investigation", "ecosystem",
         "climate", "evidence", "testimony", "expedition", "industry"),
        ("examines", "chronicles", "investigates", "documents", "reveals",
         "profiles"),
        ("archival", "firsthand", "environmental", "historical", "candid",
         "revealing"),
        ("TV-PG", "TV-14"),
    ),
    Theme(
        "Sci-Fi & Fantasy",
        "TV Sci-Fi & Fantasy",
        ("astronaut", "android", "wizard", "alien", "cyborg"),
        ("spaceship", "galaxy", "planet", "portal", "robot", "kingdom", "dragon",
         "timeline", "starship", "colony"),
        ("teleports", "terraforms", "warps", "conjures", "colonizes", "enchants"),
        ("interstellar", "futuristic", "magical", "cosmic", "robotic",
         "dystopian"),
        ("PG-13", "TV-14"),
    ),
    Theme(
        "Sports Movies",
        "Sports TV Shows",
        ("coach", "quarterback", "boxer", "striker", "rookie"),
        ("championship", "tournament", "stadium", "season", "match", "trophy",
         "league", "playoffs", "underdog", "locker"),
        ("trains", "competes", "scores", "tackles", "sprints", "qualifies"),
        ("undefeated", "athletic", "competitive", "scrappy", "olympic",
         "varsity"),
        ("PG", "TV-PG"),
    ),
    Theme(
        "Children & Family Movies",
        "Kids' TV",
        ("puppy", "kitten", "princess", "grandma", "siblings"),
        ("adventure", "friendship", "toys", "birthday", "treehouse", "holiday",
         "playground", "farm", "zoo", "bedtime"),
        ("befriends", "giggles", "rescues", "learns", "shares", "plays"),
        ("playful", "adorable", "cheerful", "curious", "little", "furry"),
        ("G", "TV-Y7", "TV-G"),
    ),
    Theme(
        "Thrillers",
        "TV Thrillers",
        ("detective", "hacker", "assassin", "spy", "hostage"),
        ("conspiracy", "murder", "heist", "kidnapping", "cartel", "coverup",
         "ransom", "surveillance", "witness", "bomb"),
        ("hunts", "blackmails", "infiltrates", "kidnaps", "pursues", "betrays"),
        ("ruthless", "deadly", "covert", "paranoid", "corrupt", "tense"),
        ("TV-MA", "R"),
    ),
    Theme(
        "Music & Musicals",
        "Music TV Shows",
        ("singer", "drummer", "pianist", "rapper", "choir"),
        ("band", "concert", "album", "melody", "stage", "tour", "song",
         "audition", "orchestra", "rhythm"),
        ("performs", "rehearses", "composes", "records", "auditions", "tours"),
        ("musical", "soulful", "melodic", "rocking", "harmonious", "jazzy"),
        ("TV-14", "PG"),
    ),
)  # fmt: skip

# Words any theme uses, as real descriptions share "young", "life", "family".
GENERIC_PEOPLE = (
    "woman man teen mother father student couple friend stranger brother sister "
    "widow girl boy teacher doctor soldier farmer writer neighbor"
).split()
GENERIC_NOUNS = (
    "life town secret journey past truth city job dream home future village "
    "house money fame island memory war summer border"
).split()
GENERIC_VERBS = (
    "finds faces hides loses discovers confronts escapes questions protects "
    "follows leaves changes"
).split()
GENERIC_ADJECTIVES = (
    "young troubled ambitious lonely reluctant wealthy retired stubborn grieving "
    "mysterious unlikely estranged"
).split()

# Skeletons made of function words, so that no template forms a cluster of its own.
TEMPLATES = (
    "A {a} {p} {v} a {n} and a {ga} {gp} in {place}, where the {n} {v} the {gn}.",
    "When {name}, a {a} {p}, {v} the {n}, a {ga} {gp} {gv} a {a} {n}.",
    "In {place}, a {ga} {gp} and a {p} {v} the {a} {n} of the {n}.",
    "{name} {v} a {n} with the {a} {p} as the {gn} of a {ga} {gp} {gv} the {n}.",
    "The {a} {n} of a {p} {v} {name}, a {ga} {gp} who {gv} the {gn} and the {n}.",
    "After the {n}, a {ga} {p} {v} a {a} {n} to save the {gn} of {place}.",
    "A {ga} {gp} from {place} {v} a {a} {p} and the {n} of the {n}.",
    "As the {n} of {place} {v} a {p}, {name} and a {ga} {gp} {gv} the {a} {n}.",
)

SYLLABLES = (
    "ka ri ma to la ne so vi da lu be mo ra shi en al jo ta ni ko sa re mi "
    "dor val kin bar tel mar zen ros lin quin fay gar hol"
).split()

FIRST_NAMES = (
    "Amara Leo Nadia Tomas Priya Jonah Elena Marcus Aiko Omar Sofia Ravi Greta "
    "Hugo Imani Kenji Lucia Mateo Noor Paulo"
).split()
LAST_NAMES = (
    "Okafor Lindqvist Moreau Tanaka Haddad Silva Kowalski Mehta Brennan Ortiz "
    "Nakamura Abebe Rossi Varga Osei Laurent Dubois Kim Novak Reyes"
).split()
COUNTRIES = (
    "United States", "India", "United Kingdom", "Japan", "South Korea", "Spain",
    "France", "Mexico", "Nigeria", "Egypt", "Canada", "Brazil",
)  # fmt: skip
COUNTRY_WEIGHTS = np.array([30, 15, 8, 6, 6, 5, 5, 5, 4, 4, 6, 6], dtype=float)


def _invented_name(rng: np.random.Generator) -> str:
    """A pronounceable proper name, so the vocabulary grows with the catalogue."""
    count = int(rng.integers(2, 4))
    return "".join(rng.choice(SYLLABLES, size=count)).capitalize()


def _person(rng: np.random.Generator) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _pick(
    rng: np.random.Generator, own: tuple[str, ...], field: str, noise: float
) -> str:
    """A word of the title's theme, or with probability ``noise`` another theme's."""
    if rng.random() < noise:
        other = THEMES[int(rng.integers(len(THEMES)))]
        return str(rng.choice(getattr(other, field)))
    return str(rng.choice(own))


def _description(rng: np.random.Generator, theme: Theme, noise: float) -> str:
    """Fill a skeleton: each slot draws afresh, so one description can repeat a slot."""
    template = str(rng.choice(TEMPLATES))
    fills = {
        "p": lambda: _pick(rng, theme.people, "people", noise),
        "n": lambda: _pick(rng, theme.nouns, "nouns", noise),
        "v": lambda: _pick(rng, theme.verbs, "verbs", noise),
        "a": lambda: _pick(rng, theme.adjectives, "adjectives", noise),
        "gp": lambda: str(rng.choice(GENERIC_PEOPLE)),
        "gn": lambda: str(rng.choice(GENERIC_NOUNS)),
        "gv": lambda: str(rng.choice(GENERIC_VERBS)),
        "ga": lambda: str(rng.choice(GENERIC_ADJECTIVES)),
        "name": lambda: _invented_name(rng),
        "place": lambda: _invented_name(rng),
    }
    text = re.sub(r"\{(\w+)\}", lambda match: fills[match.group(1)](), template)
    return text[0].upper() + text[1:]


def _title(rng: np.random.Generator, theme: Theme) -> str:
    noun = str(rng.choice(theme.nouns)).title()
    kind = int(rng.integers(3))
    if kind == 0:
        return f"{str(rng.choice(theme.adjectives)).title()} {noun}"
    if kind == 1:
        return f"The {noun} of {_invented_name(rng)}"
    return f"{_invented_name(rng)}: {noun}"


def _date_added(rng: np.random.Generator, release_year: int) -> str:
    first = dt.date(max(release_year, 2015), 1, 1)
    span = (dt.date(2021, 9, 25) - first).days
    day = first + dt.timedelta(days=int(rng.integers(max(span, 1))))
    return f"{day:%B} {day.day}, {day.year}"


def generate_catalogue(
    n_titles: int = 1500,
    seed: int = 0,
    movie_share: float = 0.7,
    noise: float = 0.05,
    missing_share: float = 0.05,
    duplicate_share: float = 0.02,
) -> pd.DataFrame:
    """Build a synthetic catalogue with the Kaggle file's 12 columns.

    Args:
        n_titles: Number of distinct titles (duplicate rows come on top).
        seed: Seed of the only random generator used, so the file is reproducible.
        movie_share: Share of titles whose ``type`` is "Movie".
        noise: Probability that a theme word is borrowed from another theme;
            this keeps the planted clusters recoverable but not trivial.
        missing_share: Share of titles missing ``cast``, and separately
            ``country``; a smaller share miss ``date_added`` or ``rating``.
            ``director`` is missing five times as often, as in the real file.
        duplicate_share: Share of rows appended again as exact duplicates.

    Returns:
        The catalogue, rows in random order, ``listed_in`` starting with the
        planted genre.
    """
    if n_titles < 1:
        raise ValueError(f"n_titles must be at least 1, got {n_titles}")
    rng = np.random.default_rng(seed)
    weights = COUNTRY_WEIGHTS / COUNTRY_WEIGHTS.sum()
    rows = []
    for i in range(n_titles):
        theme = THEMES[i % len(THEMES)]
        kind = "Movie" if rng.random() < movie_share else "TV Show"
        release_year = int(2021 - min(rng.geometric(0.12), 40))
        genres = [theme.movie_genre if kind == "Movie" else theme.show_genre]
        if rng.random() < 0.3:
            genres.append(INTERNATIONAL_TAGS[kind])
        duration = (
            f"{int(rng.integers(75, 150))} min"
            if kind == "Movie"
            else f"{(seasons := int(rng.integers(1, 6)))} Season{'s' if seasons > 1 else ''}"
        )
        rows.append(
            {
                "show_id": f"s{i + 1}",
                "type": kind,
                "title": _title(rng, theme),
                "director": _person(rng),
                "cast": ", ".join(_person(rng) for _ in range(int(rng.integers(2, 6)))),
                "country": str(rng.choice(COUNTRIES, p=weights)),
                "date_added": _date_added(rng, release_year),
                "release_year": release_year,
                "rating": str(rng.choice(theme.ratings)),
                "duration": duration,
                "listed_in": ", ".join(genres),
                "description": _description(rng, theme, noise),
            }
        )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame = frame.astype({"release_year": "int64"})
    for column, share in (
        ("director", 5 * missing_share),
        ("cast", missing_share),
        ("country", missing_share),
        ("date_added", missing_share / 5),
        ("rating", missing_share / 5),
    ):
        frame.loc[rng.random(len(frame)) < share, column] = None
    duplicates = frame.sample(frac=duplicate_share, random_state=seed)
    frame = pd.concat([frame, duplicates], ignore_index=True)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def write_catalogue(path: str | Path, **kwargs: float) -> pd.DataFrame:
    """Generate a catalogue and write it as CSV, creating parent folders."""
    frame = generate_catalogue(**kwargs)  # type: ignore[arg-type]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)
    return frame


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLE_PATH)
    parser.add_argument("--n-titles", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    frame = write_catalogue(args.out, n_titles=args.n_titles, seed=args.seed)
    print(f"wrote {len(frame)} rows to {args.out}")  # noqa: T201


if __name__ == "__main__":
    main()
