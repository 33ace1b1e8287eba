namespace Authio.ControlPlane.DataSubjects;

internal static class DataSubjectsRegistration
{
    /// <summary>Data-subject requests: exports and erasure.</summary>
    public static IServiceCollection AddDataSubjects(this IServiceCollection services)
    {
        services.AddSingleton<DataSubjectStore>();
        services.AddSingleton<DataSubjectService>();
        return services;
    }
}
