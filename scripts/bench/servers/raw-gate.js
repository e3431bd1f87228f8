// The floor for any forward-auth answer: a node:http handler that compares the Authorization header
// and answers 200 with Remote-User and an empty body, else the 401 challenge. The path is not looked at.
import http from 'node:http'

import {authorizationCheck, challengeHeaders} from './header-check.js'
import {listen, serverOptions} from './options.js'

const {username, password} = serverOptions()
const isAuthorized = authorizationCheck(username, password)
// A length, not Node's default chunked empty body: Caddy 2.6's forward_auth reuses its connection to
// the gate only when the answer has one, and opens a new connection per request otherwise.
const empty = {'Content-Length': '0'}

const server = http.createServer((req, res) => {
  if (isAuthorized(req.headers.authorization)) res.writeHead(200, {...empty, 'Remote-User': username}).end()
  else res.writeHead(401, {...empty, ...challengeHeaders}).end()
})
listen(server)
