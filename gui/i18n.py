"""Chinese and English through Qt's own translation mechanism.

Every text the windows show is written in English in the code, marked with ``tr()``,
``QCoreApplication.translate()`` or `boardcc.gui.legend.QT_TRANSLATE_NOOP`; ``pylupdate6``
(shipped with PyQt6) collects them into ``i18n/boardcc_zh_CN.ts``, where the Chinese is
written, and Qt's ``lrelease`` (Debian's qt6-l10n-tools) compiles that into the ``.qm`` file
shipped beside it, which a `QTranslator` loads at start. ``scripts/translations.sh`` runs
both steps; a test checks that the shipped ``.qm`` says what the ``.ts`` says.

The language is the system locale's unless ``--lang`` or ``BOARDCC_LANG`` says otherwise;
Chinese for any ``zh`` locale, English for everything else. State names come from the
engine in both languages (``state`` and ``state_zh``), so they follow the same choice.
"""

from __future__ import annotations

import os
from pathlib import Path

from PyQt6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

I18N = Path(__file__).with_name("i18n")
LANGUAGES = ("zh", "en")

_language = "en"
_installed: list[QTranslator] = []


def choose_language(asked: str | None = None) -> str:
    """``"zh"`` or ``"en"``: `asked`, else ``BOARDCC_LANG``, else the system locale."""
    wanted = asked or os.environ.get("BOARDCC_LANG") or QLocale.system().name()
    return "zh" if wanted.lower().startswith("zh") else "en"


def install(app: QCoreApplication, language: str) -> str:
    """Load the translations for `language` into `app` (replacing any loaded before)."""
    global _language
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    _language = language if language in LANGUAGES else "en"
    if _language == "zh":
        ours = QTranslator(app)
        if not ours.load(str(I18N / "boardcc_zh_CN.qm")):
            raise FileNotFoundError(f"translations missing: {I18N / 'boardcc_zh_CN.qm'}")
        qt = QTranslator(app)
        if qt.load("qtbase_zh_CN", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            _installed.append(qt)
        _installed.append(ours)
        for translator in _installed:
            app.installTranslator(translator)
    return _language


def language() -> str:
    """The language installed last."""
    return _language


def state_name(data: dict[str, object]) -> str:
    """A channel's state in the chosen language, as the engine names it."""
    if _language == "zh" and data.get("state_zh"):
        return str(data["state_zh"])
    return str(data.get("state", "")).replace("_", " ").lower()


def fmt(template: str, *args: object) -> str:
    """Fill Qt's ``%1``, ``%2`` ... in a translated `template` (PyQt has no ``QString.arg``);
    the translator may put them in any order."""
    for n in range(len(args), 0, -1):
        template = template.replace(f"%{n}", str(args[n - 1]))
    return template
