-- A group practice: doctors, patients and their appointments.
CREATE TABLE doctor (
  doctor_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  specialty TEXT NOT NULL,
  hired_on DATE
);
CREATE TABLE patient (
  patient_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  birth_date DATE,
  city TEXT,
  insurance TEXT
);
CREATE TABLE appointment (
  appointment_id INTEGER PRIMARY KEY,
  patient_id INTEGER NOT NULL REFERENCES patient(patient_id),
  doctor_id INTEGER NOT NULL REFERENCES doctor(doctor_id),
  visit_date DATE NOT NULL,
  fee REAL,
  diagnosis TEXT
);
