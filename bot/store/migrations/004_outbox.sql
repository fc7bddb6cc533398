-- Delivery reads a chat's queue in order (per-chat order, skipping busy chats).
CREATE INDEX IF NOT EXISTS outbox_chat ON outbox (chat_id, state, id);
