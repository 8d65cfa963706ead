/**
 * Child process of the server benchmark: opens N idle WebSocket clients to a URL, prints `ready` and keeps
 * them open until stdin closes. A separate process, so the server's RSS is not mixed with the clients'.
 *
 * Usage: node serverBenchClients.js <ws-url> <count> [bearer-token]
 */
import { WebSocket } from "ws"

const [url, countArg, token] = process.argv.slice(2)
const count = Number(countArg)
const sockets: WebSocket[] = []

async function openOne(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(url ?? "", {
      perMessageDeflate: false,
      ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
    })
    ws.once("open", () => {
      sockets.push(ws)
      resolve()
    })
    ws.once("error", reject)
  })
}

let next = 0
const worker = async () => {
  while (next < count) {
    next++
    await openOne()
  }
}
await Promise.all(Array.from({ length: 200 }, worker))
process.stdout.write("ready\n")
process.stdin.resume()
process.stdin.once("end", () => {
  for (const ws of sockets) ws.terminate()
  process.exit(0)
})
