#!/usr/bin/env bash
# The monitor's translations: collects every text marked for translation in gui/ into
# gui/i18n/boardcc_zh_CN.ts (pylupdate6, shipped with PyQt6; translations already written
# are kept), then compiles the .qm the package ships (Qt's lrelease, from Debian's
# qt6-l10n-tools, which scripts/bootstrap.sh installs). Write the Chinese in the .ts (by
# hand or with Qt Linguist), run this again, commit both files.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
.venv/bin/pylupdate6 --no-obsolete --ts gui/i18n/boardcc_zh_CN.ts gui
lrelease=$(command -v lrelease || echo /usr/lib/qt6/bin/lrelease)
"$lrelease" gui/i18n/boardcc_zh_CN.ts
