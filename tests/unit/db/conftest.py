from tests.unit.db.migrations import fresh as fresh  # noqa: F401 - the migration tests' fixture
