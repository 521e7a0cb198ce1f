import pytest
from sqlalchemy import Integer, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared.pagination import paginate


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(Row(id=i) for i in range(1, 46))
        session.commit()
        yield session


def test_page_has_exact_total_and_its_slice(session):
    page = paginate(session, select(Row).order_by(Row.id), page=2, per_page=20)
    assert page.total == 45
    assert page.pages == 3
    assert [r.id for r in page.items] == list(range(21, 41))


def test_last_page_is_short(session):
    page = paginate(session, select(Row).order_by(Row.id), page=3, per_page=20)
    assert [r.id for r in page.items] == list(range(41, 46))


def test_page_past_the_end_is_empty_with_the_same_total(session):
    page = paginate(session, select(Row).order_by(Row.id), page=9, per_page=20)
    assert page.items == [] and page.total == 45


def test_per_page_is_capped(session):
    page = paginate(session, select(Row).order_by(Row.id), page=1, per_page=10_000)
    assert page.per_page == 100


def test_filtered_statement_counts_only_matches(session):
    page = paginate(session, select(Row).where(Row.id % 2 == 0).order_by(Row.id), per_page=5)
    assert page.total == 22 and len(page.items) == 5
