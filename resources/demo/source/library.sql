-- A small lending library.
CREATE TABLE author (
  author_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  country TEXT,
  birth_year INTEGER
);
CREATE TABLE book (
  book_id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  author_id INTEGER NOT NULL REFERENCES author(author_id),
  genre TEXT,
  published_year INTEGER,
  pages INTEGER,
  price REAL
);
CREATE TABLE member (
  member_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  city TEXT,
  joined_on DATE
);
CREATE TABLE loan (
  loan_id INTEGER PRIMARY KEY,
  book_id INTEGER NOT NULL REFERENCES book(book_id),
  member_id INTEGER NOT NULL REFERENCES member(member_id),
  loaned_on DATE NOT NULL,
  returned_on DATE
);
