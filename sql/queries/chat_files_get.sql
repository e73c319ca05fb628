-- Files of one user by id (GET /api/v2/chats/files/{file}, and the attachments of the messages
-- a reply sends its model): another user's, or none, gives no row. `with_data`: the bytes too,
-- joined from their pieces, or as stored whole before migration 0017 (else an empty data).
-- $1 user id, $2 the ids (a uuid[] literal), $3 with_data.
SELECT f.id, f.media_type, f.size,
       CASE WHEN $3 THEN coalesce((SELECT string_agg(c.data, ''::bytea ORDER BY c.n)
                                     FROM chat_file_chunks c WHERE c.file_id = f.id), f.data)
            ELSE ''::bytea END AS data
  FROM chat_files f
 WHERE f.user_id = $1 AND f.id = ANY ($2::uuid[])
