"""Where a published version came from: the commit (with `+dirty` for uncommitted changes),
the CI run, and who pushed it, written as the version's description (PublishVersion
`Description`, up to 256 characters) and read back by status, history and diff.

Pure: the git state is read by engine/git.py and the environment is passed in. The version's
description is provenance, not configuration: finding a version to reuse never compares it
(remote.version_config leaves it out).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

MARK = "lambdadeploy"
DESCRIPTION_LIMIT = 256  # what PublishVersion's Description takes
NO_GIT = "none"  # the commit, when the code was not built from a git repository
_CI_LIMIT = 150
_BY_LIMIT = 40
_SHORT = 12  # a CI's full sha is cut to this many characters


@dataclass(frozen=True)
class CiSystem:
    """How one CI service names its run, its commit and who started it (environment variables)."""

    name: str
    detect: str  # set only on this CI
    run: str
    commit: str | None = None
    actor: str | None = None
    url: str | None = None  # a variable holding the run's web address


CI_SYSTEMS = (
    CiSystem("github", "GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITHUB_SHA", "GITHUB_ACTOR"),
    CiSystem("gitlab", "GITLAB_CI", "CI_PIPELINE_ID", "CI_COMMIT_SHA", "GITLAB_USER_LOGIN", "CI_PIPELINE_URL"),
    CiSystem("circleci", "CIRCLECI", "CIRCLE_BUILD_NUM", "CIRCLE_SHA1", "CIRCLE_USERNAME", "CIRCLE_BUILD_URL"),
    CiSystem("buildkite", "BUILDKITE", "BUILDKITE_BUILD_NUMBER", "BUILDKITE_COMMIT", "BUILDKITE_BUILD_CREATOR",
             "BUILDKITE_BUILD_URL"),
    CiSystem("codebuild", "CODEBUILD_BUILD_ID", "CODEBUILD_BUILD_ID", "CODEBUILD_RESOLVED_SOURCE_VERSION",
             "CODEBUILD_INITIATOR", "CODEBUILD_BUILD_URL"),
    CiSystem("azure", "TF_BUILD", "BUILD_BUILDID", "BUILD_SOURCEVERSION", "BUILD_REQUESTEDFOR"),
    CiSystem("bitbucket", "BITBUCKET_BUILD_NUMBER", "BITBUCKET_BUILD_NUMBER", "BITBUCKET_COMMIT"),
    CiSystem("travis", "TRAVIS", "TRAVIS_BUILD_ID", "TRAVIS_COMMIT", None, "TRAVIS_BUILD_WEB_URL"),
    CiSystem("jenkins", "JENKINS_URL", "BUILD_NUMBER", "GIT_COMMIT", "BUILD_USER_ID", "BUILD_URL"),
)


@dataclass(frozen=True)
class CiRun:
    system: str
    run: str
    commit: str | None = None
    actor: str | None = None
    url: str | None = None

    @property
    def label(self) -> str:
        """The run's web address when the CI gives one, else `system#run`."""
        return self.url or f"{self.system}#{self.run}"


def ci_run(env: Mapping[str, str]) -> CiRun | None:
    """The CI run this process is part of, from the CI's own variables; None outside CI."""
    for system in CI_SYSTEMS:
        run = env.get(system.run)
        if not env.get(system.detect) or not run:
            continue
        url = env.get(system.url) if system.url else None
        if system.name == "github" and env.get("GITHUB_REPOSITORY"):
            server = env.get("GITHUB_SERVER_URL") or "https://github.com"
            url = f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{run}"
        return CiRun(system.name, run, (env.get(system.commit) or None) if system.commit else None,
                     (env.get(system.actor) or None) if system.actor else None, url or None)
    return None


def who(env: Mapping[str, str], ci: CiRun | None = None) -> str | None:
    """Who is pushing: the CI's actor, else the local user name; None when neither is known."""
    if ci is not None and ci.actor:
        return ci.actor
    return env.get("USER") or env.get("LOGNAME") or env.get("USERNAME") or None


def _token(value: str, limit: int) -> str:
    """A value that fits one space-separated `key=value` token."""
    return re.sub(r"\s+", "_", value.strip())[:limit]


@dataclass(frozen=True)
class Source:
    """What a version was built from. `commit` is a short sha, or None outside a git repository;
    `dirty`: the function's files had uncommitted changes; `ci`: the CI run's label."""

    commit: str | None = None
    dirty: bool = False
    ci: str | None = None
    by: str | None = None

    @property
    def label(self) -> str:
        """`abc1234`, `abc1234+dirty`, or `no git` (what status and history print)."""
        if self.commit is None:
            return "no git"
        return self.commit + ("+dirty" if self.dirty else "")

    def describe(self) -> str:
        """The version description: `lambdadeploy git=abc1234+dirty ci=URL by=alice`, <= 256 chars."""
        parts = [MARK, "git=" + (NO_GIT if self.commit is None else self.label)]
        if self.ci:
            parts.append("ci=" + _token(self.ci, _CI_LIMIT))
        if self.by:
            parts.append("by=" + _token(self.by, _BY_LIMIT))
        return " ".join(parts)[:DESCRIPTION_LIMIT]

    @classmethod
    def parse(cls, description: str | None) -> Source | None:
        """What describe() wrote; None for any other description (a version published by hand)."""
        if not description or not description.startswith(MARK + " git="):
            return None
        fields = dict(part.split("=", 1) for part in description.split()[1:] if "=" in part)
        git = fields.get("git", NO_GIT)
        commit, dirty = (None, False) if git == NO_GIT else (git.removesuffix("+dirty"), git.endswith("+dirty"))
        return cls(commit or None, dirty, fields.get("ci") or None, fields.get("by") or None)


def source_of(commit: str | None, dirty: bool, env: Mapping[str, str]) -> Source:
    """The Source of a build: the local git state when there is one, else the commit the CI
    names (its checkout may have no .git); the CI run and who, from the environment."""
    ci = ci_run(env)
    if commit is None and ci is not None and ci.commit:
        commit, dirty = ci.commit[:_SHORT], False
    return Source(commit, dirty, ci.label if ci else None, who(env, ci))
