namespace Authio.ControlPlane.Api;

/// <summary>A value or an expected <see cref="Failure"/>; exceptions are kept for bugs.</summary>
internal sealed record Result<T>(T? Value, Failure? Error) where T : class
{
    public static implicit operator Result<T>(T value) => new(value, null);
    public static implicit operator Result<T>(Failure error) => new(null, error);

    public IResult ToResult(Func<T, IResult> ok) => Error ?? ok(Value!);
}
