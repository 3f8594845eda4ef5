"""The raw catalogue: its schema, where it is read from, and the checks on it.

One home for the contract with the input table, so that the hooks, the
data_processing and assign nodes and the tests agree on it. The table is
Kaggle's "Netflix Movies and TV Shows" (``netflix_titles.csv``) or any
catalogue a team has: its columns are found by the project's names (case,
spaces and hyphens aside) or through the column map
(``data_processing.columns``, read here and nowhere else); only ``title`` and
``description`` are required. CSV, Parquet and JSON Lines files are read
through kedro-datasets (:class:`CatalogueDataset`). Headers are read with a
bounded read, so a file that is not a catalogue fails in a moment. This
package imports no pipeline and no model library.

Import from here: these names are the contract's face. Where each lives, from
the bottom up (each module imports only those above it):

- :mod:`.schema`: the 12 column names, the required ones, the new titles'
  columns, input paths and environment variables, :class:`RawTitlesError`.
- :mod:`.formats`: file formats and :class:`CatalogueDataset`, the reader.
- :mod:`.columns`: the column map, renaming to the project's names, content ids.
- :mod:`.checks`: the checks when a run starts (file, header, columns, types).
- :mod:`.cleaning`: which titles the model can use, and the cleaning report.
- :mod:`.limits`: limits that depend on the data (titles left for the run).
"""

from .checks import (
    MAX_HEADER_BYTES,
    check_columns,
    check_new_titles_file,
    check_titles_file,
    check_titles_header,
    check_titles_table,
    check_types,
)
from .cleaning import (
    ALWAYS_REQUIRED,
    DEFAULT_REQUIRED_COLUMNS,
    NO_DIRECTOR,
    UNKNOWN,
    YEAR_COLUMN,
    clean_catalogue,
    describe_cleaning,
)
from .columns import (
    content_ids,
    resolve_columns,
    shown,
    to_project_columns,
)
from .formats import (
    FORMATS,
    SOURCE_ATTR,
    CatalogueDataset,
    file_format_of,
    read_catalogue,
    source_of,
)
from .limits import (
    check_titles_left,
)
from .schema import (
    COLUMN_MAP_PARAMETER,
    COLUMNS,
    ENV_VAR,
    KEY,
    NEW_TITLES_COLUMNS,
    NEW_TITLES_ENV_VAR,
    NOT_IN_CATALOGUE,
    OPTIONAL_COLUMNS,
    REAL_TITLES_PATH,
    REQUIRED,
    SAMPLE_PATH,
    RawTitlesError,
    describe_source,
    new_titles_path,
    raw_titles_path,
)

__all__ = [
    "COLUMNS",
    "COLUMN_MAP_PARAMETER",
    "ENV_VAR",
    "KEY",
    "NEW_TITLES_COLUMNS",
    "NEW_TITLES_ENV_VAR",
    "NOT_IN_CATALOGUE",
    "OPTIONAL_COLUMNS",
    "REAL_TITLES_PATH",
    "REQUIRED",
    "RawTitlesError",
    "SAMPLE_PATH",
    "describe_source",
    "new_titles_path",
    "raw_titles_path",
    "CatalogueDataset",
    "FORMATS",
    "file_format_of",
    "read_catalogue",
    "source_of",
    "SOURCE_ATTR",
    "content_ids",
    "resolve_columns",
    "shown",
    "to_project_columns",
    "MAX_HEADER_BYTES",
    "check_columns",
    "check_new_titles_file",
    "check_titles_file",
    "check_titles_header",
    "check_titles_table",
    "check_types",
    "ALWAYS_REQUIRED",
    "DEFAULT_REQUIRED_COLUMNS",
    "NO_DIRECTOR",
    "UNKNOWN",
    "YEAR_COLUMN",
    "clean_catalogue",
    "describe_cleaning",
    "check_titles_left",
]
