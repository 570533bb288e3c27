"""IVR flows shipped with boardcc, as YAML files in this folder (SPEC I1-I4).

The folder is data; this module only tells where it is.
"""

from pathlib import Path

FLOWS_DIR = Path(__file__).resolve().parent
