using System.Collections.Concurrent;
using System.Net;

namespace Authio.EdgeProxy.Tests.Faults;

/// <summary>
/// The fault suite's client: sends every clean credential and every revoked one in turn, without pause, until stopped,
/// and checks each answer. A revoked credential answered 200 is a wrong decision at any moment; a clean one answered
/// anything but 200 is one too, except in phases entered with <c>cleanMayFail</c> (the edge itself is down or starting,
/// so a load balancer would not send it traffic). <c>send</c> returns null when no answer came (connection refused).
/// </summary>
internal sealed class TrafficCheck
{
    private readonly Func<string, Task<HttpStatusCode?>> _send;
    private readonly ConcurrentDictionary<string, string> _clean = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _revoked = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _wrong = new();
    private readonly ConcurrentDictionary<string, int> _sent = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _cleanRefused = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _phases = [];
    private Task _loop = Task.CompletedTask;
    private volatile string _phase = "steady";
    private volatile bool _cleanMayFail;
    private readonly TaskCompletionSource _firstRound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _requests;

    private TrafficCheck(Func<string, Task<HttpStatusCode?>> send) => _send = send;

    public long Requests => Interlocked.Read(ref _requests);

    public IReadOnlyCollection<string> Wrong => _wrong;

    /// <summary>
    /// Starts sending (<paramref name="clean"/> and <paramref name="revoked"/> map a credential to its name in reports) and
    /// returns once every credential was answered rightly at least once, in the phase "steady".
    /// </summary>
    public static async Task<TrafficCheck> StartAsync(Func<string, Task<HttpStatusCode?>> send, IDictionary<string, string> clean, IDictionary<string, string> revoked)
    {
        var check = new TrafficCheck(send);
        foreach (var (token, name) in clean)
        {
            check._clean[token] = name;
        }
        foreach (var (token, name) in revoked)
        {
            check._revoked[token] = name;
        }
        check._phases.Add("steady");
        check._loop = Task.Run(check.RunAsync);
        await check._firstRound.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return check;
    }

    /// <summary>From now on, answers count under <paramref name="phase"/>.</summary>
    public void Enter(string phase, bool cleanMayFail = false)
    {
        _cleanMayFail = cleanMayFail;
        _phase = phase;
        lock (_phases)
        {
            _phases.Add(phase);
        }
    }

    /// <summary>
    /// From now on a 200 for the credential is a wrong decision: call it once its revocation reached the edge (or was
    /// made while the edge was down, which must enforce it from its first answer after the restart).
    /// </summary>
    public void Revoke(string token, string name)
    {
        _clean.TryRemove(token, out _);
        _revoked[token] = name;
    }

    /// <summary>Stops sending the credential (its right answer is about to change, e.g. its key is being published).</summary>
    public void Forget(string token)
    {
        _revoked.TryRemove(token, out _);
        _clean.TryRemove(token, out _);
    }

    /// <summary>From now on the credential must be admitted (e.g. its key was published and has reached the edge).</summary>
    public void Admit(string token, string name)
    {
        _revoked.TryRemove(token, out _);
        _clean[token] = name;
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            foreach (var (token, name) in _clean.ToArray())
            {
                var phase = _phase;
                var mayFail = _cleanMayFail;
                var status = await SendAsync(token);
                if (status != HttpStatusCode.OK && _clean.ContainsKey(token))
                {
                    if (mayFail)
                    {
                        _cleanRefused.AddOrUpdate(phase, 1, (_, n) => n + 1);
                    }
                    else
                    {
                        _wrong.Enqueue($"{phase}: clean {name} got {(status is { } s ? ((int)s).ToString(System.Globalization.CultureInfo.InvariantCulture) : "no answer")}");
                    }
                }
                _sent.AddOrUpdate(phase, 1, (_, n) => n + 1);
            }
            foreach (var (token, name) in _revoked.ToArray())
            {
                var phase = _phase;
                if (await SendAsync(token) == HttpStatusCode.OK)
                {
                    _wrong.Enqueue($"{phase}: revoked {name} was admitted");
                }
                _sent.AddOrUpdate(phase, 1, (_, n) => n + 1);
            }
            _firstRound.TrySetResult();
            await Task.Delay(2);
        }
    }

    private async Task<HttpStatusCode?> SendAsync(string token)
    {
        Interlocked.Increment(ref _requests);
        try
        {
            return await _send(token);
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Stops sending; asserts no wrong decision and traffic in every phase. Returns a one-line summary.</summary>
    public async Task<string> StopAndAssertAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        Assert.True(_wrong.IsEmpty, $"{_wrong.Count} wrong decisions:\n" + string.Join("\n", _wrong.Take(20)));
        string[] phases;
        lock (_phases)
        {
            phases = [.. _phases];
        }
        foreach (var phase in phases)
        {
            Assert.True(_sent.TryGetValue(phase, out var n) && n > 0, $"no traffic while '{phase}'");
        }
        return $"{Requests} requests, 0 wrong decisions; by phase: "
            + string.Join(", ", phases.Distinct().Select(p => $"{p} {_sent.GetValueOrDefault(p)}"
                + (_cleanRefused.TryGetValue(p, out var r) ? $" ({r} clean unanswered or refused while the edge was down/starting)" : "")));
    }
}
