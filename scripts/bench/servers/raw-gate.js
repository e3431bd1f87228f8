// The floor for any forward-auth answer: a node:http handler that compares the Authorization header
// and answers 200 with Remote-User and an empty body, else the 401 challenge. The path is not looked at.
import http from 'node:http'

import {authorizationCheck, challengeHeaders} from './header-check.js'
import {listen, serverOptions} from './options.js'

const {username, password} = serverOptions()
const isAuthorized = authorizationCheck(username, password)

const server = http.createServer((req, res) => {
  if (isAuthorized(req.headers.authorization)) res.writeHead(200, {'Remote-User': username}).end()
  else res.writeHead(401, challengeHeaders).end()
})
listen(server)
