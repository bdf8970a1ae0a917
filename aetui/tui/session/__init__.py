"""The session the dashboard watches: opening another (o), quitting (q), detaching (d), a trainer gone."""
