"""Every configuration option of the service, grouped as Mistral groups them.

Names and groups follow Mistral's, so an operator's existing ``mistral.conf``
keeps working. ``list_opts()`` feeds ``oslo-config-generator``. The logging
options (``[DEFAULT] log_file``, ``log_dir``, ``debug``, ``use_stderr``,
``log_config_append``...) are oslo.log's own, registered here and listed by
the generator's ``oslo.log`` namespace.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

from oslo_config import cfg
from oslo_log import log as oslo_log

from mistral.utils import lean_imports, log_ids

# NOTE: every process of ours imports oslo.messaging; see lean_imports for what it leaves out.
with lean_imports.without("OpenSSL"):
    from oslo_messaging import server as messaging_server
    from oslo_messaging import transport as messaging_transport
    from oslo_messaging.notify import notifier as messaging_notifier
    from oslo_messaging.rpc import client as messaging_client
    from oslo_messaging.rpc import dispatcher as messaging_dispatcher

CONF = cfg.CONF

default_opts = [
    cfg.StrOpt(
        "data_dir",
        default="~/.local/share/mistral",
        help="Directory for the embedded SQLite database when [database] connection is not set.",
    ),
    cfg.StrOpt(
        "auth_type",
        default="keystone",
        choices=["keystone"],
        help="Authentication method used when [pecan] auth_enable is true. Only keystone is available: "
        "any other value (Mistral's keycloak-oidc) stops the API at start rather than serving without it.",
    ),
    cfg.StrOpt(
        "js_implementation",
        default="py_mini_racer",
        choices=["py_mini_racer"],
        help="Embeddable JavaScript engine used by std.javascript. Only py_mini_racer is available "
        "(Mistral's pyv8 and v8eval are not): with any other value std.javascript fails and says so.",
    ),
]

api_opts = [
    cfg.HostAddressOpt(
        "host",
        help="Address the API listens on. Unset: 0.0.0.0 (every interface) when [pecan] auth_enable is "
        "true, 127.0.0.1 (this host only) when it is false, so an API without authentication is not "
        "reachable from the network by accident. Set it (e.g. 0.0.0.0) to listen elsewhere anyway.",
    ),
    cfg.PortOpt("port", default=8989, help="Port the API listens on."),
    cfg.IntOpt(
        "api_workers",
        default=4,
        min=1,
        help="Number of threads serving API requests in the built-in WSGI server "
        "(a production WSGI server hosting mistral.api.wsgi:application sizes its own). "
        "Requests share one Python interpreter with the engine when it runs in the same process: "
        "more threads serve more slow requests (synchronous action runs) at once, fewer leave the "
        "engine more CPU under a flood of requests. An API whose process runs no engine has at "
        "least 16: its writes wait for an engine over RPC without using the CPU.",
    ),
    cfg.StrOpt(
        "validation_mode",
        default="mandatory",
        choices=["mandatory", "enabled", "disabled"],
        help="mandatory: always validate definitions; enabled: validate unless "
        "?skip_validation is given; disabled: never validate.",
    ),
    cfg.IntOpt("max_limit", default=1000, min=1, help="Largest page size a list returns."),
    cfg.IntOpt(
        "max_workflow_versions",
        default=100,
        min=0,
        help="Previous definitions kept per workflow (GET /v2/workflows/{id}/versions); an update "
        "beyond this many forgets the oldest. An execution keeps the definition it runs whatever "
        "happens to the history. 0: keep every one.",
    ),
    cfg.BoolOpt(
        "enable_info_endpoint",
        default=False,
        help="Serve GET /info: the JSON document in info_json_file_path (build information). "
        "Off: GET /info answers 400.",
    ),
    cfg.StrOpt(
        "info_json_file_path",
        default="info.json",
        help="The JSON file GET /info answers with, as written by the build (a relative path is "
        "taken from the server's working directory).",
    ),
    cfg.BoolOpt(
        "allow_action_execution_deletion",
        default=False,
        help="Allow deleting completed ad-hoc action executions.",
    ),
    cfg.BoolOpt(
        "reader_process",
        default=True,
        help="When mistral-server runs the API in the same process as the engine (--server all), "
        "listen on [api] port in a child process that answers GET and HEAD requests from the "
        "database itself, answers starts of executions with the engine's answer (over a socket "
        "pair the two processes share), and passes every other request to the API of the engine's "
        "process (on 127.0.0.1, a free port). Polling and starting clients then take the child's "
        "CPU, not the engine's. "
        "The child ends with its parent and is started again if it dies. Off: one process serves "
        "every request. Ignored for an in-memory SQLite database, which a second process cannot see.",
    ),
    cfg.BoolOpt(
        "engine_on_one_cpu",
        default=True,
        help="With the reader process (reader_process), run every thread of the engine's process on "
        "one CPU and the reader process on the others, where the server may use two CPUs or more. "
        "The engine's threads take turns on one interpreter lock anyway; spread over several CPUs, "
        "each hand-over between them wakes a thread on another CPU, which costs several times more "
        "(most on virtual machines). Child processes that run actions may use every CPU. Off: the "
        "operating system places every thread.",
    ),
    cfg.IntOpt(
        "max_request_body_kb",
        default=1024,
        min=1,
        help="Largest request body the API accepts, in KiB; larger ones get 413.",
    ),
    cfg.BoolOpt(
        "console_enabled",
        default=True,
        help="Serve the web console at /ui/ (and send browsers asking for / there). Its files are "
        "public; the data it shows comes from the v2 API with the user's token.",
    ),
]

pecan_opts = [
    cfg.StrOpt("root", default="mistral.api.controllers.root.RootController", help="Pecan root controller."),
    cfg.ListOpt("modules", default=["mistral.api"], help="Pecan application modules."),
    cfg.BoolOpt(
        "debug", default=False, help="Pecan debug mode (tracebacks in responses); never in production."
    ),
    cfg.BoolOpt(
        "auth_enable",
        default=False,
        help="Authenticate requests with Keystone. Off by default so the embedded "
        "quick start needs no identity service; production deployments turn it on.",
    ),
]

database_opts = [
    cfg.StrOpt(
        "connection",
        secret=True,
        help="SQLAlchemy URL. Unset: an SQLite file in [DEFAULT] data_dir.",
    ),
    cfg.BoolOpt("connection_debug", default=False, help="Log every SQL statement."),
    cfg.IntOpt("max_pool_size", default=10, min=1, help="Connections kept open per process."),
    cfg.IntOpt(
        "max_overflow",
        default=20,
        min=-1,
        help="Extra connections allowed beyond the pool; -1: no limit (Mistral's devstack sets it).",
    ),
    cfg.IntOpt("pool_timeout", default=30, min=1, help="Seconds to wait for a free connection."),
    cfg.IntOpt("connection_recycle_time", default=3600, help="Seconds after which a connection is reopened."),
    cfg.IntOpt(
        "db_max_retries",
        default=10,
        min=0,
        help="Times a unit of work is run again after a transient database error (deadlock, "
        "serialization failure, lost connection, SQLite busy) before the error is raised; 0: never.",
    ),
    cfg.FloatOpt(
        "db_retry_interval",
        default=0.1,
        min=0,
        help="Seconds before the first run again; each further one waits twice as long, with jitter.",
    ),
    cfg.FloatOpt(
        "db_max_retry_interval",
        default=5.0,
        min=0,
        help="Most seconds between two runs of a unit of work failing on transient database errors.",
    ),
]

legacy_action_provider_opts = [
    cfg.BoolOpt(
        "load_action_plugins",
        default=True,
        help="Load actions registered by installed packages under the mistral.actions entry point.",
    ),
    cfg.BoolOpt("only_builtin_actions", default=False, help="Load only the std.* actions."),
    cfg.ListOpt("allowlist", default=["*"], help="Glob patterns of action names to load."),
    cfg.ListOpt("denylist", default=[], help="Glob patterns of action names not to load."),
    cfg.BoolOpt(
        "load_action_generators",
        default=True,
        help="Load the actions made by the generators installed under the mistral.generators entry "
        "point (mistral-extra's OpenStack actions: nova.*, glance.*, keystone.*, ...). Loading them "
        "imports every OpenStack client library once per process, which takes seconds.",
    ),
]

engine_opts: list[cfg.Opt] = [
    cfg.IntOpt(
        "execution_field_size_limit_kb",
        default=1024,
        help="Largest size, in KiB of JSON, of an execution's input and output, a task's published data "
        "and result, and an action's input and result; -1 for no limit.",
    ),
    cfg.IntOpt(
        "max_with_items",
        default=10000,
        min=1,
        help="Most items one with-items task may run; a task over more fails before starting any.",
    ),
    cfg.IntOpt(
        "with_items_window",
        default=1000,
        min=0,
        help="Most items of a with-items task without concurrency that are launched at once; as they "
        "end, the next ones are launched, half this many at a time, failed items or not. It bounds the "
        "memory engines and executors need for a long list, and the executors start on the first "
        "items while the engine builds the next ones (1000: 500 to 1000 items in flight, enough for 31 "
        "executors of 16 workers); 0: every item at once.",
    ),
    cfg.IntOpt(
        "max_subworkflow_depth",
        default=100,
        min=1,
        help="Most levels of sub-workflows below a top-level execution; a task that would start one "
        "level more fails, so a self-recursive workflow ends instead of running forever.",
    ),
]

engine_opts += [
    cfg.StrOpt(
        "merge_strategy",
        default="replace",
        choices=["replace", "merge"],
        help="How a task's published variables combine with its inherited context: "
        "replace (dict update) or merge (deep merge).",
    ),
    cfg.IntOpt(
        "action_definition_cache_time",
        default=60,
        min=0,
        help="Seconds an engine keeps a resolved ad-hoc action definition.",
    ),
    cfg.IntOpt(
        "results_batch_size",
        default=500,
        min=1,
        help="Most action results an engine applies in one transaction.",
    ),
    cfg.IntOpt(
        "action_batch_size",
        default=50,
        min=1,
        help="Most actions sent to executors in one message; smaller batches spread wider.",
    ),
    cfg.IntOpt(
        "execution_integrity_check_delay",
        default=20,
        help="Seconds after which an action that no executor has taken is sent again (it was lost on its "
        "way); 0 turns re-sending off.",
    ),
    cfg.FloatOpt(
        "recovery_interval",
        default=5.0,
        min=0.5,
        help="Seconds between two looks for lost work: actions nobody took, executors gone silent, "
        "finished sub-workflows their parent never heard of.",
    ),
    cfg.FloatOpt(
        "results_apply_timeout",
        default=10.0,
        min=0.1,
        help="Most seconds an engine keeps an executor waiting for its results to be committed; the "
        "executor sends results it has no answer for again.",
    ),
]

executor_opts = [
    cfg.StrOpt(
        "type",
        default="remote",
        choices=["remote", "local"],
        help="remote: executors are separate services reached over RPC; local: the engine runs actions.",
    ),
    cfg.StrOpt("host", help="Name of this executor; tasks with 'target: <name>' run only here."),
    cfg.IntOpt("max_workers", default=16, min=1, help="Actions one executor process runs at once."),
    cfg.FloatOpt(
        "results_flush_interval",
        default=0.02,
        min=0,
        help="Most seconds an executor waits to gather finished actions into one message to the "
        "engine. It waits only while more of its actions are running; a lone result leaves at once.",
    ),
    cfg.FloatOpt(
        "engine_confirm_timeout",
        default=15.0,
        min=0.1,
        help="Seconds an executor waits for an engine to confirm that it took actions (else it runs "
        "none of them: they are sent again) or applied results (else it sends them again; applying "
        "a result twice is harmless).",
    ),
    cfg.FloatOpt(
        "result_retry_max_delay",
        default=5.0,
        min=0.1,
        help="Longest pause between two attempts to deliver results no engine has confirmed.",
    ),
    cfg.FloatOpt(
        "shutdown_grace",
        default=10.0,
        min=0,
        help="Seconds a stopping process (SIGTERM or SIGINT) gives the actions its executor is "
        "running to finish; their results are sent before the engine stops. Actions still running "
        "then are abandoned (the engine's heartbeat check reruns or fails them) and queued ones are "
        "cancelled. A second signal ends the process at once.",
    ),
]

action_heartbeat_opts = [
    cfg.IntOpt(
        "max_missed_heartbeats",
        default=15,
        min=0,
        help="Heartbeats a running action may miss before the engine fails it; 0 turns the check off.",
    ),
    cfg.IntOpt("check_interval", default=20, min=0, help="Seconds between heartbeats and between checks."),
    cfg.IntOpt(
        "first_heartbeat_timeout",
        default=3600,
        min=0,
        help="Seconds an action may wait for an executor to take it before it fails; until then it is "
        "sent again every [engine] execution_integrity_check_delay seconds. 0: it waits forever.",
    ),
    cfg.IntOpt("batch_size", default=10, min=1, help="Actions failed per check."),
]

scheduler_opts = [
    cfg.FloatOpt("fixed_delay", default=0.1, min=0.01, help="Seconds between two looks for due jobs."),
    cfg.FloatOpt(
        "idle_delay",
        default=1.0,
        min=0.01,
        help="Longest pause between two looks once looks find nothing due: the pause doubles from "
        "fixed_delay up to this. A job this process schedules wakes it at the job's due time; one "
        "another process left (its engine died) is seen within this many seconds.",
    ),
    cfg.FloatOpt("random_delay", default=0.0, min=0, help="Up to this many extra seconds between looks."),
    cfg.IntOpt("batch_size", default=100, min=1, help="Most jobs claimed in one look."),
    cfg.IntOpt(
        "captured_job_timeout",
        default=30,
        min=1,
        help="Seconds after which a claimed but unfinished job is taken over (its engine died).",
    ),
    cfg.IntOpt("max_attempts", default=5, min=1, help="Runs of a failing job before it is dropped."),
]

cron_trigger_opts = [
    cfg.BoolOpt("enabled", default=True, help="Fire cron triggers in the engine processes."),
    cfg.IntOpt(
        "execution_interval",
        default=1,
        min=1,
        help="Seconds between two looks for due cron triggers.",
    ),
]

event_engine_opts = [
    cfg.StrOpt("host", default="0.0.0.0", help="Name of this event engine."),
    cfg.StrOpt("topic", default="mistral_event_engine", help="RPC topic the event engines listen on."),
    cfg.StrOpt(
        "listener_pool_name",
        default="mistral-event-engine-pool",
        help="Notification listener pool: event engines in one pool share the notifications.",
    ),
    cfg.StrOpt(
        "event_definitions_cfg_file",
        default="/etc/mistral/event_definitions.yaml",
        help="YAML file that turns event payloads into workflow parameters.",
    ),
]

execution_expiration_policy_opts = [
    cfg.IntOpt(
        "evaluation_interval",
        help="Minutes between two expiration runs; unset turns the policy off.",
    ),
    cfg.IntOpt("older_than", help="Delete finished root executions older than this many minutes."),
    cfg.IntOpt(
        "max_finished_executions", default=0, min=0, help="Keep at most this many finished executions."
    ),
    cfg.IntOpt("batch_size", default=0, min=0, help="Executions deleted per transaction (0: all at once)."),
    cfg.ListOpt(
        "ignored_states",
        default=[],
        help="Finished states whose executions are kept (e.g. ERROR).",
    ),
]

action_http_opts = [
    cfg.FloatOpt(
        "default_timeout",
        default=60.0,
        min=0.001,
        help="Seconds std.http waits to connect and for each read when the action gives no timeout, "
        "so that a server that never answers cannot hold an executor worker forever.",
    ),
    cfg.ListOpt(
        "denied_networks",
        default=["169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "100.100.100.200/32", "fd00:ec2::254/128"],
        help="Address ranges (CIDR) std.http refuses to connect to, checked on the address actually "
        "connected to after name resolution, on every redirect and for a proxy. The default denies "
        "link-local addresses and the cloud metadata services (169.254.169.254, AWS's fd00:ec2::254, "
        "Alibaba's 100.100.100.200) and 0.0.0.0/8. Loopback and private ranges stay allowed because "
        "workflows commonly call services on private networks; a service shared by untrusted "
        "projects should add 127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 "
        "and fc00::/7. An empty list turns the check off.",
    ),
    cfg.IntOpt(
        "max_response_size",
        default=10 * 1024 * 1024,
        min=0,
        help="Largest response body, in bytes after decompression, std.http reads; a larger one "
        "fails the action. 0: no limit.",
    ),
]

action_amqp_opts = [
    cfg.FloatOpt(
        "default_timeout",
        default=10.0,
        min=0.001,
        help="Seconds std.amqp and std.amqp_wait wait to connect to a broker and for each of its "
        "answers when the action gives no connect timeout, so that an unreachable broker fails the "
        "action instead of holding an executor worker.",
    ),
    cfg.ListOpt(
        "denied_networks",
        default=["169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "100.100.100.200/32", "fd00:ec2::254/128"],
        help="Address ranges (CIDR) std.amqp and std.amqp_wait refuse to connect to, checked on every "
        "address the broker's host name resolves to before connecting. The default is that of "
        "[action_http] denied_networks; a service shared by untrusted projects should add the "
        "loopback and private ranges its own brokers are in. An empty list turns the check off.",
    ),
    cfg.BoolOpt(
        "allow_mistral_broker",
        default=False,
        help="Let std.amqp and std.amqp_wait use the virtual host of the broker that Mistral's own "
        "RPC uses ([DEFAULT] transport_url). Off by default: a workflow that can publish there can "
        "forge messages to the engines and executors. Other virtual hosts of that broker are allowed.",
    ),
]

action_ssh_opts = [
    cfg.StrOpt(
        "known_hosts_file",
        help="OpenSSH known_hosts file with the host keys std.ssh and std.ssh_proxied trust (for "
        "hosts on a port other than 22 the entry is [host]:port). Unset: no host is known.",
    ),
    cfg.BoolOpt(
        "accept_unknown_hosts",
        default=False,
        help="Connect to hosts whose key is not in known_hosts_file, trusting whatever key they "
        "present (open to man-in-the-middle attacks). A known host with a different key is "
        "refused either way.",
    ),
    cfg.StrOpt(
        "private_key_dir",
        help="Directory the private_key_filename of SSH actions is read from: relative names are "
        "taken inside it, and paths that lead outside it (absolute paths, '..', symbolic links) "
        "are refused. Unset: private_key_filename is refused (private_key text still works).",
    ),
    cfg.BoolOpt(
        "allow_proxy_command",
        default=False,
        help="Let std.ssh_proxied run its proxy_command. The command runs as a local process of the "
        "executor, with the service's rights, so anyone who can start a workflow could run "
        "commands on the executor host.",
    ),
]

action_javascript_opts = [
    cfg.FloatOpt(
        "timeout",
        default=60.0,
        min=0.001,
        help="Seconds a std.javascript script may run before it is stopped and the action fails.",
    ),
    cfg.IntOpt(
        "max_memory_mb",
        default=256,
        min=1,
        help="Most MiB of V8 heap a std.javascript script may use before it is stopped and the action fails.",
    ),
]

dynamic_action_opts = [
    cfg.FloatOpt(
        "timeout",
        default=60.0,
        min=0.001,
        help="Seconds a dynamic action (uploaded Python, run in a child process of the executor) may "
        "run, import included, before the child is killed and the action fails. A task's own "
        "timeout still applies when it is shorter.",
    ),
    cfg.IntOpt(
        "max_memory_mb",
        default=512,
        min=16,
        help="Most MiB of address space the child process running a dynamic action may use; past it "
        "allocations fail (MemoryError) and the action fails.",
    ),
    cfg.IntOpt(
        "max_code_size_kb",
        default=1024,
        min=1,
        help="Largest code source accepted, in KiB; a larger one gets 400.",
    ),
]

action_email_opts = [
    cfg.StrOpt(
        "ca_file",
        help="CA certificates (PEM) std.email trusts for its SMTP servers' TLS certificates, instead "
        "of the system's. The certificate and host name are verified either way.",
    ),
]

yaql_opts = [
    cfg.IntOpt(
        "limit_iterators",
        default=100000,
        min=-1,
        help="Most items an expression may take from one collection or iterator (YAQL; Jinja's "
        "range() too); -1 for no limit. An expression going past it fails its task.",
    ),
    cfg.IntOpt(
        "memory_quota",
        default=64 * 1024 * 1024,
        min=-1,
        help="Largest value, in bytes, one step of an expression may build or take (YAQL; Jinja's "
        "string and list repetition, powers and rendered text too); -1 for no limit.",
    ),
    cfg.FloatOpt(
        "expression_time_limit",
        default=5.0,
        min=0,
        help="Seconds of running time allowed to one evaluation of a task's expressions, YAQL and "
        "Jinja alike; past it the task fails naming the expression. It counts the CPU time of "
        "the evaluating thread, so a busy machine does not fail tasks; an evaluation is also "
        "cut after 10 times this on the wall clock. 0 for no limit.",
    ),
    cfg.FloatOpt(
        "expression_time_limit_in_lock",
        default=0.2,
        min=0.001,
        help="Seconds an evaluation may run while the engine holds a lock that others wait on (the "
        "SQLite writer slot, a workflow execution row). Past it the engine rolls back, evaluates "
        "the expression again outside any lock within expression_time_limit, and then redoes "
        "the step with the outcome, so a slow expression never stalls other work.",
    ),
]

notifier_opts = [
    cfg.StrOpt(
        "notify",
        default="",
        help="Publishers every execution notifies, besides those in its own 'notify' parameter: a JSON "
        'list such as [{"type": "webhook", "url": "https://example.com/hook", "headers": {}, '
        '"event_types": ["WORKFLOW_SUCCEEDED"]}], or JSON objects separated by commas as in Mistral. '
        "Empty: none. A value that does not parse stops the notifier from starting.",
    ),
    cfg.StrOpt(
        "host",
        help="Name of this notifier in its claims on events (the host name when unset).",
    ),
    cfg.FloatOpt(
        "poll_interval",
        default=1.0,
        min=0.01,
        help="Seconds between two looks for events to deliver. An engine in the same process wakes "
        "the notifier at once when it commits events; a notifier of its own (--server notifier) "
        "finds them within this interval.",
    ),
    cfg.IntOpt(
        "batch_size", default=100, min=1, help="Most event streams (execution and publisher) taken per look."
    ),
    cfg.IntOpt(
        "workers",
        default=4,
        min=1,
        help="Event streams delivered at once; the events of one stream always go one at a time, in order.",
    ),
    cfg.FloatOpt(
        "request_timeout",
        default=10.0,
        min=0.01,
        help="Seconds a webhook receiver has to connect and to answer one event.",
    ),
    cfg.FloatOpt(
        "claim_timeout",
        default=60.0,
        min=1,
        help="Seconds after which an event a notifier took but neither delivered nor released (it "
        "died) is taken over by another notifier and sent again. Must exceed request_timeout.",
    ),
    cfg.FloatOpt(
        "retry_initial_delay",
        default=1.0,
        min=0.01,
        help="Seconds before the first retry of an event its receiver did not accept; each further "
        "retry waits twice as long, up to retry_max_delay.",
    ),
    cfg.FloatOpt("retry_max_delay", default=300.0, min=0.01, help="Longest wait between two retries."),
    cfg.FloatOpt(
        "give_up_after",
        default=86400.0,
        min=0,
        help="Seconds after its state change an event that still could not be delivered is dropped "
        "(logged as an error with its id, execution and receiver), so that later events of the same "
        "execution can go. 0: never drop.",
    ),
]

metrics_opts = [
    cfg.BoolOpt(
        "enabled",
        default=True,
        help="Serve GET /metrics on the API port: this process's series in the Prometheus text format "
        "(executions started and finished, task and action durations, actions queued and running per "
        "executor, results applied and the engine's apply latency, scheduler lag, database "
        "transaction retries, RPC timeouts). With the API in a process of its own (distributed), "
        "the API's /metrics shows that process's series only; each engine and executor serves its "
        "own on [metrics] port. Off: GET /metrics answers 404.",
    ),
    cfg.BoolOpt(
        "public",
        default=True,
        help="Answer GET /metrics without authentication, as Prometheus scrapes (it carries no "
        "Keystone token). The series hold counts, durations, states, executor host names and "
        "RPC method names: no project's data, no ids. False: with [pecan] auth_enable, only a "
        "request with an admin's token gets them.",
    ),
    cfg.PortOpt(
        "port",
        default=0,
        help="Port on which mistral-server serves this process's series itself (prometheus_client's "
        "HTTP server, no authentication), for the processes whose API does not answer for them: "
        "an engine or executor started alone. 0: no such port.",
    ),
    cfg.HostAddressOpt(
        "host",
        default="0.0.0.0",
        help="Address the [metrics] port listens on.",
    ),
]

healthcheck_opts = [
    cfg.BoolOpt(
        "enabled",
        default=True,
        help="Answer GET /healthcheck on the API port, without authentication, with oslo.middleware's "
        "healthcheck (200 OK, or 503 when a backend says so: backends = disable_by_file with "
        "disable_by_file_path = /path takes the API out of a load balancer while the file exists). "
        "The other [healthcheck] options are oslo.middleware's.",
    ),
]

GROUPS: dict[str | None, Sequence[cfg.Opt]] = {
    None: default_opts,
    "api": api_opts,
    "pecan": pecan_opts,
    "database": database_opts,
    "legacy_action_provider": legacy_action_provider_opts,
    "engine": engine_opts,
    "executor": executor_opts,
    "action_heartbeat": action_heartbeat_opts,
    "scheduler": scheduler_opts,
    "cron_trigger": cron_trigger_opts,
    "event_engine": event_engine_opts,
    "notifier": notifier_opts,
    "execution_expiration_policy": execution_expiration_policy_opts,
    "action_http": action_http_opts,
    "action_amqp": action_amqp_opts,
    "action_ssh": action_ssh_opts,
    "action_javascript": action_javascript_opts,
    "dynamic_actions": dynamic_action_opts,
    "action_email": action_email_opts,
    "yaql": yaql_opts,
    "metrics": metrics_opts,
    "healthcheck": healthcheck_opts,
}

for _group, _opts in GROUPS.items():
    CONF.register_opts(list(_opts), group=_group)


#: Threads of each RPC server (oslo.messaging's [DEFAULT] executor_thread_pool_size) by default.
RPC_THREADS = 16


def _register_messaging_opts() -> None:
    """oslo.messaging's [DEFAULT] options, with the embedded mode's in-process transport as default.

    NOTE: the same lists as ``oslo_messaging.opts``, which also imports every driver's options
    (kombu, amqp, multiprocessing: 4 MB in a process on the in-process transport); a driver
    registers its own options when a transport loads it.
    """
    CONF.register_opts(
        [
            *messaging_server._pool_opts,
            *messaging_client._client_opts,
            *messaging_transport._transport_opts,
            *messaging_dispatcher._dispatcher_opts,
        ]
    )
    # NOTE: read before oslo.messaging registers them
    CONF.register_opts(messaging_notifier._notifier_opts, group="oslo_messaging_notifications")
    # NOTE: unset means "everything in this process"; distributed deployments set rabbit://...
    CONF.set_default("transport_url", "local://")
    CONF.set_default("control_exchange", "mistral")
    # NOTE: each RPC server's pool starts a thread per message until it holds this many, idle ones
    # or not, and keeps them all: oslo.messaging's 64 gave the embedded process some 130 idle
    # threads after a with-items run, about 8 MB of stacks and thread state and the heap they
    # pinned. A handler blocks only while its batch commits (engine) or a synchronous action runs
    # (executor, itself bounded by [executor] max_workers, 16); a server's callers are fewer.
    CONF.set_default("executor_thread_pool_size", RPC_THREADS)


_register_messaging_opts()


def _register_log_opts() -> None:
    """oslo.log's options, command-line ones included (--debug, --log-file...): before any parse.

    NOTE: not at import: a tool that parsed cfg.CONF itself before importing us (oslopolicy-sample-
    generator loads mistral.api.policy) can no longer take command-line options.
    """
    if "log_config_append" not in CONF:
        oslo_log.register_options(CONF)
        # NOTE: python-neutronclient warns that it is deprecated once per generated action: some 370
        # identical lines at every start with mistral-extra installed.
        oslo_log.set_defaults(
            default_log_levels=[*oslo_log.get_default_log_levels(), "neutronclient.v2_0.client=ERROR"]
        )
        # NOTE: a line about an execution or a task names them (mistral.utils.log_ids), right
        # before the message; a format set in the configuration file is taken as it is.
        for name in ("logging_context_format_string", "logging_default_format_string"):
            default = CONF[name] if name in CONF else None
            if default and f"%({log_ids.ATTRIBUTE})s" not in default:
                CONF.set_default(name, default.replace("%(message)s", f"%({log_ids.ATTRIBUTE})s%(message)s"))
    log_ids.install()


def register_keystone_opts() -> None:
    """``[keystone_authtoken]`` and ``[keystone]`` as OpenStack actions read them.

    NOTE: mistral-extra's keystone utils read ``[keystone_authtoken]`` (www_authenticate_uri,
    auth_type and the service credentials that re-authenticate with a trust) and load a session
    from ``[keystone]`` in whatever process runs the action. An executor alone never builds
    keystonemiddleware, which is what registers the first group, so whoever loads those actions
    calls this. Not at import: keystonemiddleware takes ~0.2 s to import.
    """
    from keystoneauth1 import loading
    from keystonemiddleware.auth_token import _opts  # noqa: F401 - registers [keystone_authtoken]

    if "keystone" not in CONF or "cafile" not in CONF.keystone:
        loading.register_session_conf_options(CONF, "keystone")


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    from keystoneauth1 import loading

    # NOTE: [keystone_authtoken] belongs to keystonemiddleware's own namespace (etc/config-generator.conf).
    session_opts: list[cfg.Opt] = list(loading.get_session_conf_options())
    return [(group, list(opts)) for group, opts in GROUPS.items()] + [("keystone", session_opts)]


def parse_args(argv: Sequence[str] | None = None, *, default_config_files: list[str] | None = None) -> None:
    """Read the command line and config files; with no config file, defaults apply."""
    _register_log_opts()
    CONF(
        list(argv or []),
        project="mistral",
        default_config_files=default_config_files,
    )


def setup_logging() -> None:
    """Log as the oslo.log options say, as every OpenStack service does (after ``parse_args``).

    Without ``log_file``, ``log_dir``, ``use_stderr`` or ``use_journal`` oslo.log writes to stdout.
    """
    _register_log_opts()
    oslo_log.setup(CONF, "mistral")


def database_url() -> str:
    """The configured database URL, or the embedded SQLite file."""
    if CONF.database.connection:
        return CONF.database.connection
    return _sqlite_in(CONF.data_dir)


@functools.cache
def _sqlite_in(data_dir: str) -> str:
    # NOTE: cached: every transaction asks, and the directory needs making only once.
    data_dir = os.path.expanduser(data_dir)
    os.makedirs(data_dir, exist_ok=True)
    return f"sqlite:///{os.path.join(data_dir, 'mistral.sqlite')}"
