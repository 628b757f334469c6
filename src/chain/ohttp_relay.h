// The Oblivious Relay of RFC 9458 section 6.2 on a network node: `POST /v1/relay/{node_id}` forwards an
// encapsulated OHTTP request to that confidential node's gateway (`{endpoint}/v1/ohttp`) and streams the
// encapsulated response back, so the node never learns the user's address and the relay never reads
// the request (it holds no key; the bytes are HPKE-sealed to the node's attested key).
//
// What the relay does (docs/client.md "Relays"):
//  - accepts only Content-Type message/ohttp-req or message/ohttp-chunked-req (else 415
//    unsupported_media_type) with a body of at most max_request_bytes (else 413 request_too_large);
//  - resolves node_id through the chain's attestation record, VERIFIED only (else 502
//    relay_unknown_node: the client fails over as for any unreachable node);
//  - forwards the body and that Content-Type only (with a fixed User-Agent "cmln-ohttp-relay"): no other
//    request header, no X-Forwarded-For or Via, nothing that identifies the client (RFC 9458 section 6.2);
//  - returns the gateway's status and body as they arrive (chunked OHTTP streams through), with the
//    gateway's Content-Type when it is message/ohttp-res, message/ohttp-chunked-res or application/json
//    (the node's plaintext refusals such as 421 stale_key, which the client's failover reads), and no
//    other gateway header; Cache-Control: no-store;
//  - answers 502 relay_upstream_unreachable when the gateway cannot be reached or fails before its head.
// The relay logs nothing about requests (no addresses, no sizes per client).
//
// Thread safety: the handler runs on httplib's worker threads; each request uses its own upstream
// connection and one forwarding thread, joined before the request ends.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace httplib {
class Server;
}

namespace cmln::chain {

struct OhttpRelayOptions {
  size_t max_request_bytes = 1 << 20;  // as the node's default max_request_bytes
  int connect_timeout_ms = 5000;
  int read_timeout_s = 300;            // a long generation streams for minutes
  size_t max_buffered_bytes = 1 << 20;  // gateway bytes waiting for a slow client before reading pauses
};

// The gateway base URL of a node ("http://127.0.0.1:8101"), or an error (kNotFound / kNotActive).
using NodeEndpointLookup = std::function<Result<std::string>(const std::string& node_id)>;

// A lookup over the chain's attestation records: `record_of(node_id)` returns the JSON record the REST API
// serves at /attestations?node=ID. VERIFIED records with an http(s) endpoint only (kNotActive / kMalformed).
NodeEndpointLookup EndpointFromAttestations(
    std::function<Result<nlohmann::json>(const std::string& node_id)> record_of);

// Installs POST /v1/relay/{node_id} on `server`.
void MountOhttpRelay(httplib::Server& server, NodeEndpointLookup lookup, OhttpRelayOptions options = {});

}  // namespace cmln::chain
