// A JavaScript agent that hands each turn to memory-reflect (docs/guides.md).
//
// Every turn becomes a deferred run on the conversation's thread. A newer turn within
// `afterSeconds` supersedes the pending run ("rollback"), and the server keeps every
// superseded turn's input in the thread's inbox, so the one run that executes, once
// the conversation goes quiet, processes the whole burst.
import { Client } from "@langchain/langgraph-sdk";

const client = new Client({
  apiUrl: process.env.LANGGRAPH_API_URL ?? "http://127.0.0.1:2024",
  // One of the server's MEMORY_API_KEYS; leave it unset for a server in open mode.
  apiKey: process.env.LANGGRAPH_API_KEY,
});

// Hand one turn over. threadId: a UUID per conversation (crypto.randomUUID()).
export async function remember(threadId, userId, messages, afterSeconds = 30) {
  return client.runs.create(threadId, "memory_manager", {
    input: { messages },
    context: { namespace: ["memories", userId] },
    multitaskStrategy: "rollback",
    afterSeconds,
    ifNotExists: "create",
  });
}

// What the agent knows about a user, most relevant first (each memory's text).
export async function recall(userId, query, limit = 5) {
  const { items } = await client.store.searchItems(["memories", userId], { query, limit });
  return items.map((item) => item.value.content.content ?? JSON.stringify(item.value.content));
}

// `node agent.mjs USER TURN...`: a burst of turns on a new thread, then what is known.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [userId, ...turns] = process.argv.slice(2);
  const threadId = crypto.randomUUID();
  for (const turn of turns) {
    await remember(threadId, userId, [{ role: "user", content: turn }], 3);
  }
  // Wait for the burst's run: until each turn is known and no run is left to execute.
  const deadline = Date.now() + 90_000;
  let known = [];
  let runs = [];
  const busy = () => runs.some((r) => r.status === "pending" || r.status === "running");
  while ((known.length < turns.length || busy()) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    known = await recall(userId, turns[0], 50);
    runs = await client.runs.list(threadId);
  }
  console.log(JSON.stringify({ threadId, known, runs: runs.map((r) => r.status) }));
}
