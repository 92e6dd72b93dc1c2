"""Maintainer and instructor tooling: notebook conventions, the suite's timing table,
student versions and grading. Students never need this package."""
