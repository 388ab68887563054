"""The GitHub edge: the REST client (``client``), the Action's inputs and event
(``action_config``), the runner's log and workflow commands (``runner_output``), and
keeping tokens out of child processes (``environ_guard``). Knows nothing of CDK.

May import: ``core`` (secret masking).
"""
