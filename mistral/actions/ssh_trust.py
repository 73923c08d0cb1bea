"""What SSH actions trust: host keys from [action_ssh] known_hosts_file, key files from private_key_dir.

NOTE: hosts and key file names come from workflow input, that is from any user
who can start a workflow, so neither may reach beyond what the operator listed.
"""

from __future__ import annotations

import logging
import os

import paramiko
from mistral_lib.exceptions import ActionException

from mistral.config import CONF

LOG = logging.getLogger(__name__)


class _UnknownHostPolicy(paramiko.MissingHostKeyPolicy):
    """Reject a host whose key is not known, unless [action_ssh] accept_unknown_hosts is true.

    An accepted key is never added to the known hosts: the file is the operator's list.
    """

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        if CONF.action_ssh.accept_unknown_hosts:
            LOG.warning(
                "Accepting the unknown %s host key of %s ([action_ssh] accept_unknown_hosts = true)",
                key.get_name(),
                hostname,
            )
            return
        raise ActionException(
            f"The {key.get_name()} host key of {hostname} is not known: add it to the file of "
            "[action_ssh] known_hosts_file, or set [action_ssh] accept_unknown_hosts = true to trust "
            "unknown hosts"
        )


def apply_host_policy(client: paramiko.SSHClient) -> None:
    """Trust only the keys of [action_ssh] known_hosts_file; never the service user's own known_hosts."""
    path = CONF.action_ssh.known_hosts_file
    if path:
        try:
            client.load_host_keys(path)
        except OSError as exc:
            raise ActionException(f"Cannot read [action_ssh] known_hosts_file {path}: {exc}") from exc
    client.set_missing_host_key_policy(_UnknownHostPolicy())


def key_file(filename: str | None) -> str | None:
    """The real path of ``filename`` inside [action_ssh] private_key_dir; anything else is refused."""
    if not filename:
        return None
    key_dir = CONF.action_ssh.private_key_dir
    if not key_dir:
        raise ActionException(
            f"private_key_filename {filename!r} is refused: [action_ssh] private_key_dir is not set "
            "(give the key as private_key text, or have the operator set the directory)"
        )
    root = os.path.realpath(key_dir)
    # realpath resolves '..' and every symbolic link, so what is checked is what is opened.
    path = os.path.realpath(os.path.join(root, filename))
    if os.path.commonpath([root, path]) != root or path == root:
        raise ActionException(
            f"private_key_filename {filename!r} is refused: it leads outside [action_ssh] private_key_dir"
        )
    return path
