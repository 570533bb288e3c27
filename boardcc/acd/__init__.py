"""ACD: queues, agents on desk phones and the API, call control, supervisors (SPEC A, C7).

`settings` holds the site file's models (imported by `boardcc.config`), `agent` the agent's
status and state, `selector` the queue strategies (pure), `queues` a queue's callers and
figures, `acd` the controller the engine calls, `control` transfers, conferences, hold,
pickup and supervisors, `outside` the outside legs of transfers and conferences to outside
numbers. See docs/acd.md.
"""
