/** The chat page at `/`: plain HTML and a little script over the JSON API, nothing to build. */
export const CHAT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@perf demo chat</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; display: grid; grid-template-columns: 260px 1fr; height: 100vh; }
  aside { border-right: 1px solid #ddd; padding: 12px; overflow: auto; }
  main { display: grid; grid-template-rows: auto 1fr auto; padding: 12px; min-height: 0; }
  #messages { overflow: auto; border: 1px solid #eee; padding: 8px; }
  .msg { margin: 6px 0; padding: 6px 8px; border-radius: 6px; background: #f3f3f3; }
  .msg.assistant { background: #e8f0fe; }
  .msg small { color: #666; display: block; }
  li.active { font-weight: bold; }
  #error { color: #b00020; min-height: 1.2em; }
  input, button { font: inherit; }
</style>
</head>
<body>
<aside>
  <label>User <input id="user" value="user-1" size="10"></label>
  <p><input id="new-title" placeholder="New conversation" size="16"> <button id="create">Create</button></p>
  <ul id="conversations"></ul>
  <p><a href="/dashboard">Dashboard</a> · <a href="/metrics">/metrics</a></p>
</aside>
<main>
  <h2 id="title">Pick or create a conversation</h2>
  <div id="messages"></div>
  <form id="composer">
    <input id="message" placeholder="Say something" size="50" autocomplete="off">
    <button id="send" type="submit">Send</button>
    <button id="reply" type="button">Ask the assistant</button>
    <div id="error"></div>
  </form>
</main>
<script>
const $ = (id) => document.getElementById(id);
let current = null;
async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { 'x-user-id': $('user').value, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.message || res.status + ' ' + res.statusText);
  $('error').textContent = '';
  return data;
}
const show = (e) => { $('error').textContent = e.message; };
async function loadConversations() {
  const { conversations } = await api('GET', '/api/conversations');
  const ul = $('conversations');
  ul.replaceChildren(...conversations.map((c) => {
    const li = document.createElement('li');
    li.textContent = c.title + ' (#' + c.id + ')';
    li.dataset.id = c.id;
    li.className = current && current.id === c.id ? 'active' : '';
    li.onclick = () => open(c).catch(show);
    return li;
  }));
}
async function open(c) {
  current = c;
  $('title').textContent = c.title;
  await loadMessages();
  await loadConversations();
}
async function loadMessages() {
  if (!current) return;
  const { messages } = await api('GET', '/api/conversations/' + current.id + '/messages');
  $('messages').replaceChildren(...messages.map((m) => {
    const div = document.createElement('div');
    div.className = 'msg ' + m.author;
    div.dataset.id = m.id;
    const who = document.createElement('small');
    who.textContent = m.authorId + ' · ' + new Date(m.createdAt).toLocaleTimeString();
    div.append(who, document.createTextNode(m.text));
    return div;
  }));
  $('messages').scrollTop = $('messages').scrollHeight;
}
$('create').onclick = () => {
  const title = $('new-title').value.trim() || 'New conversation';
  api('POST', '/api/conversations', { title }).then((c) => { $('new-title').value = ''; return open(c); }).catch(show);
};
$('composer').onsubmit = (e) => {
  e.preventDefault();
  if (!current) return show(new Error('create a conversation first'));
  const text = $('message').value;
  api('POST', '/api/conversations/' + current.id + '/messages', { text })
    .then(() => { $('message').value = ''; return loadMessages(); }).catch(show);
};
$('reply').onclick = () => {
  if (!current) return show(new Error('create a conversation first'));
  $('reply').disabled = true;
  api('POST', '/api/conversations/' + current.id + '/reply')
    .then(loadMessages).catch(show).finally(() => { $('reply').disabled = false; });
};
$('user').onchange = () => { current = null; $('messages').replaceChildren(); loadConversations().catch(show); };
loadConversations().catch(show);
</script>
</body>
</html>
`;
