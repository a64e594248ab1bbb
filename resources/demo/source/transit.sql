-- A city's public transport network.
CREATE TABLE line (
  line_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  mode TEXT NOT NULL,
  opened_year INTEGER
);
CREATE TABLE station (
  station_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  district TEXT,
  step_free INTEGER NOT NULL
);
CREATE TABLE stop (
  line_id INTEGER NOT NULL REFERENCES line(line_id),
  station_id INTEGER NOT NULL REFERENCES station(station_id),
  stop_order INTEGER NOT NULL,
  PRIMARY KEY (line_id, station_id)
);
CREATE TABLE trip (
  trip_id INTEGER PRIMARY KEY,
  line_id INTEGER NOT NULL REFERENCES line(line_id),
  trip_date DATE NOT NULL,
  passengers INTEGER,
  delay_minutes INTEGER
);
