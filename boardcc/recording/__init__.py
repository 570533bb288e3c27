"""Call recording (SPEC C8, Q2): every call the site names, written off the tick thread.

- `boardcc.recording.settings`: the site file's ``recording:``, ``music_on_hold:`` and
  ``voicemail:`` sections;
- `boardcc.recording.recorder`: the engine's side — which calls are recorded, one array a
  tick for all of them;
- `boardcc.recording.writer`: the writer thread — files and index entries;
- `boardcc.recording.files`: a recording file that is whole on disk after every write;
- `boardcc.recording.index`: the index in the database, searches, export, retention.

See docs/recording.md. Nothing is imported here, so that `boardcc.config` can read the
settings without the engine.
"""
