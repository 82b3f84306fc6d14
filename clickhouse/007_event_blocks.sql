-- Each row keeps the number of the insert block it came in, through merges (`_block_number`):
-- the rollups follow `events` in that order, and read the blocks after their marker
-- (src/storage/event-blocks.ts). Parts written before this setting keep one number per part,
-- which is all the rollups need of them: they start after the blocks already there.
ALTER TABLE events MODIFY SETTING enable_block_number_column = 1;
