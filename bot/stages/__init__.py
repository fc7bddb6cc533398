"""The stages that pull entries from the store and hand them on: match (entries
waiting for matching -> their topics), then cluster (-> their story and every chat's
outbox row, in one transaction). They sit above the pure packages they drive
(matching, stories) and the store they read and write."""
