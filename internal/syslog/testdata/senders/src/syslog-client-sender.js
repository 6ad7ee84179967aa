// syslog-client-sender.js sends the capture messages through syslog-client.
// Usage: node syslog-client-sender.js PORT TRANSPORT RFC
//   TRANSPORT udp|tcp, RFC 3164|5424.
'use strict'
const syslog = require('syslog-client')
const [port, transport, rfc] = process.argv.slice(2)
const client = syslog.createClient('127.0.0.1', {
  port: Number(port), transport: transport === 'tcp' ? syslog.Transport.Tcp : syslog.Transport.Udp,
  rfc3164: rfc === '3164', appName: 'myapp', syslogHostname: 'vmhost'
})
const msgs = [
  ['m01 plain message', 6],
  ['m02 non-ASCII: grüße, naïve café, 日本語, emoji 🚀', 6],
  ['', 6]
]
for (let s = 0; s <= 7; s++) msgs.push([`m03 level ${s}`, s])
msgs.push(['m11 first line\nsecond line\n3 jobs failed\n\tat third', 6])
msgs.push([new Error('m12 request failed').stack, 3])
let i = 0
function next () {
  if (i === msgs.length) return client.close()
  const [m, severity] = msgs[i++]
  client.log(m, { severity }, err => { if (err) console.error(err); next() })
}
next()
