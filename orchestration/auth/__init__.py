"""Who may do what: console users and their roles, sign-in sessions, permissions and the audit log."""
