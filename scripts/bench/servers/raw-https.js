// Node's floor: a node:https handler that checks the Authorization header and answers the JSON.
import https from 'node:https'

import {authenticateBody, authorizationCheck, challengeHeaders} from './header-check.js'
import {listen, serverOptions} from './options.js'

const {tls, username, password, message} = serverOptions()
const isAuthorized = authorizationCheck(username, password)
const json = {'Content-Type': 'application/json; charset=utf-8'}
const secretBody = JSON.stringify({message})
const challengeBody = JSON.stringify(authenticateBody)

const server = https.createServer(tls, (req, res) => {
  if (!isAuthorized(req.headers.authorization)) {
    res.writeHead(401, {...json, ...challengeHeaders}).end(challengeBody)
  } else if (req.url === '/api/secret') {
    res.writeHead(200, json).end(secretBody)
  } else {
    res.writeHead(404, json).end('{"message":"Not found."}')
  }
})
listen(server)
