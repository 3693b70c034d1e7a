"""The in-app inbox: a notification per user for invitations, takings, signature requests, overdue consultations and review assignments."""
