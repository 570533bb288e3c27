"""The PyQt6 channel-monitor console, agent editor and agent bar (SPEC M1-M3).

Built by its own issue. Only modules in this package import Qt.
"""
