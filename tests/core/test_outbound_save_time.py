"""`refusal_without_dns`: what can be refused when a URL is saved, without asking DNS."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from app.core.outbound import UnsafeTargetError, ensure_public_target, refusal_without_dns

METADATA_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://[::ffff:169.254.169.254]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://Metadata.Google.Internal./",
    "http://instance-data.ec2.internal/",
    "http://metadata/",
    "http://100.100.100.200/",
    "http://2852039166/",  # 169.254.169.254 as one decimal number
    "http://0xa9.0xfe.0xa9.0xfe/",  # and in hexadecimal parts
]

PRIVATE_URLS = [
    ("http://127.0.0.1:11434", "loopback"),
    ("http://2130706433/", "loopback"),
    ("http://0x7f.1/", "loopback"),
    ("http://0177.0.0.1/", "loopback"),
    ("http://localhost:8080/", "loopback"),
    ("http://ollama.localhost/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://10.0.0.5/hook", "private"),
    ("http://192.168.1.20/", "private"),
    ("http://[fd12:3456::1]/", "private"),
    ("http://100.64.0.1/", "CGNAT"),
    ("http://0.0.0.0/", "unspecified"),
]


@pytest.mark.parametrize("url", METADATA_URLS)
@pytest.mark.parametrize("allow_private", [True, False])
def test_metadata_targets_are_never_allowed(url: str, allow_private: bool) -> None:
    assert refusal_without_dns(url, allow_private=allow_private) == (
        "the URL points to a cloud metadata service"
    )


@pytest.mark.parametrize(("url", "reason"), PRIVATE_URLS)
def test_private_literals_and_localhost_are_refused_when_private_targets_are_not_allowed(
    url: str, reason: str
) -> None:
    problem = refusal_without_dns(url, allow_private=False)
    assert problem is not None
    assert reason in problem


@pytest.mark.parametrize(("url", "reason"), PRIVATE_URLS)
def test_private_literals_and_localhost_pass_when_private_targets_are_allowed(
    url: str, reason: str
) -> None:
    # A self-hosted Ollama on the LAN or on this machine is a legitimate target there.
    assert refusal_without_dns(url, allow_private=True) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/in",
        "https://api.openai.com/v1",
        "https://8.8.8.8/",
        "https://[2606:4700::1111]/",
        # A name is not resolved at save time, even one that might resolve privately: the check
        # at use decides (and a save-time lookup would let users probe the internal DNS).
        "https://intranet.corp.example/",
        # Hex-looking names that are not addresses stay names.
        "https://deadbeef.example/",
        "https://cafe/",
    ],
)
def test_public_literals_and_any_host_name_pass(url: str) -> None:
    assert refusal_without_dns(url, allow_private=False) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/", "the URL must start with http:// or https://"),
        ("https://user:secret@example.com/", "the URL must not contain a user name or password"),
        ("https://", "the URL has no host"),
    ],
)
def test_syntax_problems_come_first(url: str, problem: str) -> None:
    assert refusal_without_dns(url, allow_private=True) == problem


async def test_the_check_at_use_refuses_what_the_save_check_refuses() -> None:
    async def no_dns(host: str) -> Sequence[str]:
        raise AssertionError(f"{host} must be refused before any DNS query")

    for url in [*METADATA_URLS, "http://localhost/"]:
        with pytest.raises(UnsafeTargetError):
            await ensure_public_target(url, allow_private=False, resolve=no_dns)
