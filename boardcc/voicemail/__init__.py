"""Voicemail (语音信箱, SPEC C8): boxes per agent, queue or number, on the engine.

`boardcc.voicemail.service.Voicemail` is the engine's side (`engine.voicemail`): callers
leave messages (`deposit`, the IVR's and the rules' hook), owners listen, delete, save and
call back from their desk phones (feature code) or the API, and message waiting shows on
their phones. `boardcc.voicemail.store` keeps boxes (hashed PINs, greetings) and messages
in memory and in the database. See docs/recording.md.
"""
