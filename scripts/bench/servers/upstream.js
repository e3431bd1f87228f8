// The app behind the proxy (a stand-in for Home Assistant and the like): node:http answering every
// request 200 with a small body.
import http from 'node:http'

import {listen, serverOptions} from './options.js'

const {message} = serverOptions()
const body = JSON.stringify({message})

const server = http.createServer((_req, res) => {
  res.writeHead(200, {'Content-Type': 'application/json; charset=utf-8'}).end(body)
})
listen(server)
