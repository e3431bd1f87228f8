import {describeForwardAuth} from './forward-auth.js'

describeForwardAuth('caddy', 'auth-listen')
describeForwardAuth('caddy', 'https')
