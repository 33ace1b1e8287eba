namespace Authio.ControlPlane.Webhooks;

/// <summary>
/// One endpoint's deliveries in flight in this instance and its circuit: closed (up to the per-endpoint limit), open
/// for the cooldown after the threshold's consecutive failures (nothing is sent), then half-open (one probe at a time;
/// a success closes it, a failure opens it again).
/// </summary>
internal sealed class WebhookEndpointState
{
    private readonly Lock _lock = new();
    private int _inFlight;
    private int _failures;
    private DateTimeOffset _openUntil;
    private bool _probing;

    /// <summary>Whether a round should lease this endpoint's rows at all.</summary>
    public bool Admits(DateTimeOffset now, int limit)
    {
        lock (_lock)
        {
            return _openUntil == default ? _inFlight < limit : now >= _openUntil && !_probing && _inFlight == 0;
        }
    }

    public bool TryEnter(DateTimeOffset now, int limit)
    {
        lock (_lock)
        {
            if (now < _openUntil || _probing)
            {
                return false;
            }

            if (_openUntil != default)
            {
                // Half-open: one probe at a time until a success closes the circuit.
                if (_inFlight > 0)
                {
                    return false;
                }

                _probing = true;
            }
            else if (_inFlight >= limit)
            {
                return false;
            }

            _inFlight++;
            return true;
        }
    }

    /// <summary>Records an attempt's end; true when this failure opened the circuit.</summary>
    public bool Exit(bool succeeded, DateTimeOffset now, int threshold, TimeSpan cooldown)
    {
        lock (_lock)
        {
            _inFlight--;
            var wasProbe = _probing;
            _probing = false;
            if (succeeded)
            {
                _failures = 0;
                _openUntil = default;
                return false;
            }

            _failures++;
            if (wasProbe || _failures == threshold)
            {
                _openUntil = now + cooldown;
                return true;
            }

            return false;
        }
    }
}
