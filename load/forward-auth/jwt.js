// The anchor nginx users reach for without an auth service: an ES256 JWT check in njs (nginx's JavaScript), run by
// auth_request for every request. Verifies the signature against one P-256 public key ($jwt_key_file: SPKI DER, read
// per request, as njs keeps no state between requests; njs 0.7.9 imports no JWK for ECDSA), then kid, issuer,
// audience and expiry.
import fs from 'fs';

async function verify(r) {
    try {
        const auth = r.headersIn.Authorization || '';
        if (!auth.startsWith('Bearer ')) { r.return(401); return; }
        const parts = auth.substring(7).split('.');
        if (parts.length !== 3) { r.return(401); return; }
        const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
        if (header.alg !== 'ES256' || header.kid !== r.variables.jwt_kid) { r.return(401); return; }
        const key = await crypto.subtle.importKey('spki', fs.readFileSync(r.variables.jwt_key_file), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
        const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key,
            Buffer.from(parts[2], 'base64url'), Buffer.from(parts[0] + '.' + parts[1]));
        if (!ok) { r.return(401); return; }
        const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
        const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
        if (claims.iss !== r.variables.jwt_issuer || audience.indexOf(r.variables.jwt_audience) < 0
            || !(claims.exp > Date.now() / 1000)) { r.return(401); return; }
        r.headersOut['X-Authio-Subject'] = claims.sub;
        r.return(200);
    } catch (e) {
        r.error('jwt check failed: ' + e);
        r.return(401);
    }
}

export default { verify };
