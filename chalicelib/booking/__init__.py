"""Appointment booking: event types, hosts' availability, the slot engine, bookings, calendar
connections (Google, Microsoft 365), meeting links (Zoom, Teams) and reminders."""
