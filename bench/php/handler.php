<?php
// Peer (c) of bench/nonstreaming.sh: what a PHP-FPM programmer would write for
// GET /api/v2/chats and GET /api/v2/chats/{chat}/messages. The same token check as chatd (find
// the key and its user, compare SHA-256 of the secret in constant time, expiry, status) and the
// same queries, with a persistent PDO connection per FPM child (pm = static) and the same JSON
// bytes.

function fail(int $status, string $message): void {
    http_response_code($status);
    header('Content-Type: application/json; charset=utf-8');
    echo json_encode(['message' => $message]);
}

$db = new PDO('pgsql:host=' . getenv('BENCH_PGHOST') . ';dbname=chatd', 'postgres', null, [
    PDO::ATTR_PERSISTENT => true,
    PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
]);

$token = $_SERVER['HTTP_CODER_SESSION_TOKEN'] ?? '';
$parts = explode('-', $token);
if (count($parts) !== 2 || strlen($parts[0]) !== 10 || strlen($parts[1]) !== 22) {
    fail(401, 'Invalid API key format.');
    return;
}
$auth = $db->prepare(<<<'SQL'
SELECT encode(k.hashed_secret, 'hex') AS hashed_secret, k.expires_at <= now() AS expired,
       u.id AS user_id, u.status AS status
  FROM api_keys k JOIN users u ON u.id = k.user_id
 WHERE k.id = ?
SQL);
$auth->execute([$parts[0]]);
$key = $auth->fetch(PDO::FETCH_ASSOC);
$hashed = hash('sha256', $parts[1]);
if (!$key || !hash_equals($key['hashed_secret'], $hashed) || $key['expired'] ||
    $key['status'] !== 'active') {
    fail(401, 'API key is invalid.');
    return;
}

$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/api/v2/chats') {
    $list = $db->prepare(<<<'SQL'
SELECT c.id, chatd_time(c.created_at) AS created_at, chatd_time(c.updated_at) AS updated_at,
       c.title,
       EXISTS (SELECT 1 FROM chat_replies r WHERE r.chat_id = c.id AND r.finished_at IS NULL)
           AS running
  FROM chats c
 WHERE c.owner_id = ?
 ORDER BY c.created_at DESC, c.id DESC
SQL);
    $list->execute([$key['user_id']]);
    $chats = [];
    foreach ($list->fetchAll(PDO::FETCH_ASSOC) as $c) {
        $chats[] = ['id' => $c['id'], 'created_at' => $c['created_at'],
                    'updated_at' => $c['updated_at'], 'title' => $c['title'],
                    'status' => $c['running'] ? 'running' : 'idle'];
    }
    header('Content-Type: application/json; charset=utf-8');
    echo json_encode($chats, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
    return;
}
if (preg_match('#^/api/v2/chats/([0-9a-f-]{36})/messages$#', $path, $m)) {
    $chat = $db->prepare('SELECT owner_id FROM chats WHERE id = ?');
    $chat->execute([$m[1]]);
    $owner = $chat->fetchColumn();
    if ($owner !== $key['user_id']) {
        fail(404, 'Resource not found or you do not have access to this resource');
        return;
    }
    $messages = $db->prepare(
        'SELECT content::text FROM chat_messages WHERE chat_id = ? ORDER BY created_at, id');
    $messages->execute([$m[1]]);
    header('Content-Type: application/json; charset=utf-8');
    echo '[' . implode(',', $messages->fetchAll(PDO::FETCH_COLUMN)) . ']';
    return;
}
fail(404, 'Route not found.');
